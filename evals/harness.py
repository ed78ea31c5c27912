"""`livehost eval run`: scenarios x channel conditions x repeats, measured from outside, into one report.

Each (suite, condition) is one run in `report.json` (schema `livehost.eval/1`); its summary pools
the turns of every repeat. Outputs, all in one folder: report.json, report.md, latency-cdf.png,
stages.png, barge-in-N.png (the first interruptions, both waveforms), and agent.log when the
harness started the agent itself.
"""

from __future__ import annotations

import functools
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.audio import RATE, write_wav
from evals.analysis import TurnResult, analyze, check, rows, summarize
from evals.judge import Judge
from evals.scenario import Scenario
from evals.session import Clock, Played, Recording, Transport, run_session

SCHEMA = "livehost.eval/1"
TIMELINES = 3  # barge-in plots per report
TIMELINE_BEFORE_S, TIMELINE_AFTER_S = 2.0, 3.0


@dataclass
class Progress:
    """One line on stderr: how far the evaluation is, and what it is playing."""

    total: int
    enabled: bool = True
    done: int = 0
    started: float = field(default_factory=time.monotonic)

    def turn(self, run: str, played: Played) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        elapsed = int(time.monotonic() - self.started)
        line = f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} turns  {run}  {played.turn.id}"
        sys.stderr.write(f"{line[:110]:<110} {elapsed // 60}m{elapsed % 60:02d}s")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


async def evaluate(
    scenarios: list[Scenario],
    transport_for: Callable[[], Transport],
    clock_for: Callable[[], Clock],
    render: Callable[[Any], np.ndarray],
    judge: Judge | None,
    repeat: int = 1,
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    audio: Path | None = None,
) -> tuple[dict[str, Any], list[Any]]:
    """Runs everything; returns the report and the barge-in timelines for the plots. With `audio`, each
    session is also saved there as a stereo WAV: the viewers (left) and the agent as heard (right)."""
    bar = Progress(sum(len(s.turns) * len(s.conditions) for s in scenarios) * repeat, progress)
    runs: list[dict[str, Any]] = []
    timelines: list[Any] = []
    started = time.monotonic()
    for scenario in scenarios:
        for condition in scenario.conditions:
            label = f"{scenario.name}/{condition.name}"
            results: list[TurnResult] = []
            lost = 0
            lag = 0.0
            for r in range(repeat):
                recording = await run_session(
                    scenario, condition, transport_for(), clock_for(), render, seed=r,
                    on_turn=functools.partial(bar.turn, label),
                )  # fmt: skip
                if audio is not None:
                    both = np.stack([recording.viewers_mixed, recording.agent], axis=1)
                    write_wav(audio / f"{scenario.name}-{condition.name}-{r + 1}.wav", np.clip(both, -1, 1), RATE)
                turns = analyze(recording, judge)
                results += turns
                lost += recording.lost_frames
                lag = max(lag, recording.lag_ms)
                if len(timelines) < TIMELINES:
                    timelines += _timelines(recording, turns, TIMELINES - len(timelines))
            summary = summarize(results)
            summary["harness_lag_ms"] = lag
            if not condition.clean:
                summary["lost_frames"] = lost
            runs.append(
                {
                    "suite": scenario.name,
                    "condition": condition.name,
                    "file": str(scenario.source) if scenario.source else None,
                    "summary": summary,
                    "turns": rows(results),
                    "assertions": check(scenario.assertions, summary),
                }
            )
    bar.finish()
    report = {
        "schema": SCHEMA,
        "meta": {**(meta or {}), "repeat": repeat, "wall_s": round(time.monotonic() - started, 1)},
        "passed": all(a["passed"] for run in runs for a in run["assertions"]),
        "runs": runs,
    }
    return report, timelines


def _timelines(recording: Recording, turns: list[TurnResult], n: int) -> list[Any]:
    from evals.activity import segments
    from evals.plots import Timeline

    out: list[Any] = []
    viewer = recording.viewers_mixed
    for r in turns:
        if len(out) >= n:
            break
        if r.expect != "stop" or r.stop_ms is None or r.speech_start_s is None:
            continue
        onset = r.speech_start_s
        a = max(0, int((onset - TIMELINE_BEFORE_S) * RATE))
        b = min(len(recording.agent), int((onset + TIMELINE_AFTER_S) * RATE))
        events = [(onset, "interruption onset"), (onset + r.stop_ms / 1000, "agent last heard")]
        events += [(s.at, "clear (agent)") for s in recording.messages if s.message.get("type") == "clear"
                   and a / RATE <= s.at <= b / RATE]  # fmt: skip
        out.append(
            Timeline(
                title=f"{recording.scenario.name}/{recording.condition.name}: {r.id} (stopped in {r.stop_ms:g} ms)",
                rate=RATE,
                start_s=a / RATE,
                user=viewer[a:b],
                agent=recording.agent[a:b],
                user_segments=[(s.start + a / RATE, s.end + a / RATE) for s in segments(viewer[a:b], RATE)],
                agent_segments=[(s.start + a / RATE, s.end + a / RATE) for s in segments(recording.agent[a:b], RATE)],
                events=events,
            )
        )
    return out


def write(report: dict[str, Any], timelines: list[Any], out: Path) -> list[Path]:
    import json

    from evals.plots import write_plots

    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(report, out, timelines)
    report["plots"] = [p.name for p in plots]
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    return [out / "report.json", out / "report.md", *plots]


def machine() -> str:
    from evals.faq import machine as described

    return described() or platform.machine()


HEADLINE = (
    ("voice-to-voice p50/p90/p95 ms", "voice_to_voice_ms"),
    ("barge-in stop p50/p90/p95 ms", "barge_in_stop_ms"),
    ("chat-to-voice p50/p90/p95 ms", "chat_to_voice_ms"),
)
COUNTS = (
    ("yield rate", "yield_rate"),
    ("false yields (of distractions)", "false_yields"),
    ("false pauses", "false_pauses"),
    ("missed responses", "missed_responses"),
    ("spurious responses", "spurious_responses"),
    ("talk-overs (ms)", "talk_overs"),
    ("answer accuracy", "answer_accuracy"),
    ("hallucinations", "hallucinations"),
    ("WER (agent's transcripts)", "wer"),
)


def markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        "# Dialogue evaluation",
        "",
        f"{meta.get('date', '')}, {meta.get('machine', '')}; transport **{meta.get('transport')}** to "
        f"`{meta.get('url')}`; catalog `{meta.get('catalog')}`; {meta.get('repeat')} repeat(s); "
        f"{meta.get('wall_s')} s. Result: **{'PASS' if report['passed'] else 'FAIL'}**.",
        "",
        "Definitions: shared/docs/latency.md; how each figure is read off the audio: evals/analysis.py.",
        "",
    ]
    for run in report["runs"]:
        s = run["summary"]
        lines += [f"## {run['suite']} / {run['condition']}", "", f"{s['turns_passed']}/{s['turns']} turns passed.", ""]
        lines += ["| figure | value |", "|---|---|"]
        for name, key in HEADLINE:
            d = s[key]
            if d["count"]:
                lines.append(f"| {name} | {d['p50']} / {d['p90']} / {d['p95']} (n={d['count']}) |")
        for name, key in COUNTS:
            value = s.get(key)
            if key == "talk_overs":
                value = f"{s['talk_overs']} ({s['talk_over_ms']} ms)"
            elif key == "false_yields":
                value = f"{s['false_yields']} of {s['distractions']}"
            if value is not None:
                lines.append(f"| {name} | {value} |")
        if s["stages_ms"]:
            lines += ["", "| stage (agent's records) | p50 | p90 | p95 | n |", "|---|---|---|---|---|"]
            lines += [
                f"| {k} | {d['p50']} | {d['p90']} | {d['p95']} | {d['count']} |" for k, d in s["stages_ms"].items()
            ]
        if run["assertions"]:
            lines += ["", "| assertion | actual | result |", "|---|---|---|"]
            lines += [
                f"| `{a['expr']}` | {a['actual']} | {'pass' if a['passed'] else 'FAIL'} |" for a in run["assertions"]
            ]
        lines += ["", "| turn | expect | v2v ms | stop ms | passed | notes |", "|---|---|---|---|---|---|"]
        for t in run["turns"]:
            notes = "; ".join(t["notes"]).replace("|", "/")
            lines.append(
                f"| {t['id']} | {t['expect']} | {_dash(t['voice_to_voice_ms'])} | {_dash(t['stop_ms'])} | "
                f"{'yes' if t['passed'] else 'no'} | {notes} |"
            )
        lines.append("")
    lines += [f"![{p}]({p})" for p in report.get("plots", [])]
    return "\n".join(lines) + "\n"


def _dash(value: Any) -> str:
    return "-" if value is None else f"{value:g}"
