"""Our harness against an independent one: the same conversation measured by voicebench and by us.

`livehost eval crosscheck` writes one conversation twice, as a voicebench scenario and as ours: the
same WAV files (questions in the project's voices), the same start rules (each question 800 ms
after the agent's answer ends; barge-ins 900 ms into an answer), and plays each, one after the
other, at the same agent over the WebSocket PCM protocol (ours: /ws/pcm; or voicebench's own mock
agent, whose behaviour is fixed). It then sets the two tools' figures side by side: voicebench's
response latency against our voice-to-voice, and both barge-in stop times, with the same
percentile method (linear interpolation, voicebench's) so only the measurements differ.

Known, expected differences (docs/PERFORMANCE.md has the measured ones):
- voicebench sends each 20 ms frame when it begins, we send it when it has been spoken (a
  microphone cannot send audio before it is captured): its agent hears the end of a question up
  to 20 ms sooner.
- voicebench dates the end of speech with its energy detector on the recorded track, we take it
  from the stimulus itself; both date the agent's first sound the same way (-45 dBFS, 10 ms).
- the two runs are separate sessions of a live agent, so run-to-run noise is in the difference too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.audio import RATE, write_wav

TOLERANCE_MS = 60.0  # agreement: |ours - voicebench| within this, or within TOLERANCE_SHARE of the figure
TOLERANCE_SHARE = 0.1
QUESTIONS = [
    ("How many days does the SmartBand X2 go between charges?", "en"),
    ("How much is the SmartWatch GT?", "en"),
    ("手环X2充一次电能用几天？", "zh"),
    ("What's the Boom speaker going for today?", "en"),
    ("How much is the SmartBand X2 and how long does its battery last?", "en"),
    ("智能插座多少钱？", "zh"),
    ("How many hours do the Air3 get in total with the charging case?", "en"),
    ("What colors does the SmartBand X2 come in?", "en"),
    ("扫地机器人S7吸力有多大？", "zh"),
    ("How much for the smart plug?", "en"),
]


def write_scenarios(out: Path, say: Any, questions: int, barge_ins: int) -> tuple[Path, Path]:
    """The conversation as a voicebench scenario and as ours, over the same WAV files in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    vb_turns: list[dict[str, Any]] = []
    our_turns: list[dict[str, Any]] = []
    every = max(1, questions // barge_ins) if barge_ins else 0
    cut = 0
    for k in range(questions):
        text, lang = QUESTIONS[k % len(QUESTIONS)]
        path = out / f"q{k + 1}.wav"
        write_wav(path, say(text, lang), RATE)
        first = k == 0
        vb_turns.append({"id": f"q{k + 1}", "audio": {"file": path.name},
                         "start": {"after": "session_start" if first else "agent_speech_end",
                                   "delay_ms": 1000 if first else 800}})  # fmt: skip
        our_turns.append({"id": f"q{k + 1}", "audio": path.name,
                          "start": {"after": "session_start" if first else "answer_end",
                                    "delay_ms": 1000 if first else 800}})  # fmt: skip
        if every and (k + 1) % every == 0 and cut < barge_ins:
            cut += 1
            follow = QUESTIONS[(k + 5) % len(QUESTIONS)]
            path = out / f"cut{cut}.wav"
            write_wav(path, say(*follow), RATE)
            vb_turns.append({"id": f"cut{cut}", "audio": {"file": path.name}, "expect": "stop", "max_stop_ms": 2000,
                             "start": {"after": "agent_speech_start", "delay_ms": 900}})  # fmt: skip
            our_turns.append({"id": f"cut{cut}", "audio": path.name, "expect": "stop",
                              "start": {"after": "answer_start", "delay_ms": 900}})  # fmt: skip
    vb = {"name": "crosscheck", "sample_rate": RATE, "frame_ms": 20, "tail_ms": 3000, "max_duration_ms": 600000,
          "defaults": {"response_timeout_ms": 10000}, "turns": vb_turns}  # fmt: skip
    ours = {"name": "crosscheck", "turns": our_turns}
    (out / "voicebench.yaml").write_text(yaml.safe_dump(vb, allow_unicode=True), encoding="utf-8")
    (out / "livehost.yaml").write_text(yaml.safe_dump(ours, allow_unicode=True), encoding="utf-8")
    return out / "voicebench.yaml", out / "livehost.yaml"


async def run_voicebench(scenario: Path, url: str) -> dict[str, list[float]]:
    try:
        from voicebench.bench import run_benchmark
        from voicebench.scenario import load_scenario
    except ImportError:
        raise RuntimeError("voicebench is not installed (`make setup` installs it)") from None
    options = {"url": url, "start_message": {"type": "start"}}
    result = await run_benchmark(load_scenario(scenario), adapter="websocket", options=options, realtime=True)
    turns = [t for s in result.sessions for t in s.turns]
    return {
        "response_ms": [t.response_latency_ms for t in turns if t.expect == "respond" and t.response_latency_ms],
        "ttfa_ms": [t.ttfa_ms for t in turns if t.expect == "respond" and t.ttfa_ms is not None],
        "stop_ms": [t.stop_latency_ms for t in turns if t.expect == "stop" and t.stop_latency_ms is not None],
    }


async def run_ours(scenario: Path, url: str) -> dict[str, list[float]]:
    from evals.harness import evaluate
    from evals.scenario import load
    from evals.session import RealClock
    from evals.stimulus import Stimuli
    from evals.transports import WebSocketTransport

    report, _ = await evaluate(
        [load(str(scenario))], lambda: WebSocketTransport(url), RealClock, Stimuli().render, None, progress=False
    )
    turns = report["runs"][0]["turns"]
    return {
        "response_ms": [t["voice_to_voice_ms"] for t in turns if t["expect"] == "answer" and t["voice_to_voice_ms"]],
        "stop_ms": [t["stop_ms"] for t in turns if t["expect"] == "stop" and t["stop_ms"] is not None],
    }


def compare(theirs: dict[str, list[float]], ours: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Side by side, the same statistic of each tool's per-turn figures, and whether they agree."""
    rows = []
    for figure, mine, other in (
        ("response latency (ours: voice-to-voice)", ours["response_ms"], theirs["response_ms"]),
        ("voice-to-voice vs voicebench time to first audio", ours["response_ms"], theirs["ttfa_ms"]),
        ("barge-in stop", ours["stop_ms"], theirs["stop_ms"]),
    ):
        for stat in ("p50", "p90", "max"):
            a, b = _stat(mine, stat), _stat(other, stat)
            diff = None if a is None or b is None else round(a - b, 1)
            agree = diff is not None and abs(diff) <= max(TOLERANCE_MS, TOLERANCE_SHARE * abs(b or 0))
            rows.append({"figure": figure, "stat": stat, "livehost": a, "voicebench": b, "difference": diff,
                         "n": [len(mine), len(other)], "agree": agree})  # fmt: skip
    return rows


def _stat(values: list[float], stat: str) -> float | None:
    if not values:
        return None
    if stat == "max":
        return round(max(values), 1)
    return round(float(np.percentile(values, float(stat[1:]))), 1)


def markdown(rows: list[dict[str, Any]], target: str) -> str:
    lines = [
        f"# Cross-check with voicebench 0.2.0 ({target})",
        "",
        f"Agreement: within {TOLERANCE_MS:g} ms or {TOLERANCE_SHARE:.0%} of voicebench's figure.",
        "",
        "| figure | stat | livehost | voicebench | difference | n (ours, theirs) | agree |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['figure']} | {r['stat']} | {r['livehost']} | {r['voicebench']} | {r['difference']} | "
        f"{r['n'][0]}, {r['n'][1]} | {'yes' if r['agree'] else 'NO'} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"
