"""The evaluation harness against the real agent: `livehost eval run` as an evaluator runs it (it starts
a real server process with the real models), over the WebSocket and over WebRTC in the live room; and
the cross-check with voicebench on voicebench's own mock agent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model
EVAL = [sys.executable, "-m", "agent", "eval"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EVAL, *args], capture_output=True, text=True, timeout=900)


def test_the_smoke_suite_measures_the_real_agent_over_the_websocket(tmp_path: Path) -> None:
    done = run("run", "smoke", "--serve-args", "--composer catalog", "--out", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    summary = report["runs"][0]["summary"]
    turns = {t["id"]: t for t in report["runs"][0]["turns"]}
    v2v = summary["voice_to_voice_ms"]
    assert v2v["count"] == 3 and 300 < v2v["p50"] < 10000, v2v
    assert 0 < turns["cut-in"]["stop_ms"] < 2000 and summary["yield_rate"] == 1.0
    assert turns["cough"]["agent_speaking"] is True and summary["false_yields"] == 0
    assert {"endpointing", "asr", "tts", "transport"} <= set(summary["stages_ms"])
    # the answer is judged from the audio the listener received (Whisper base may write "fourteen" as
    # "40", or "battery" as "batter": Piper's voice differs a little from one synthesis to the next; the
    # agent's own text, which the heard answer matches, settles that)
    assert "batter" in (turns["battery"]["heard"] or "").lower() and turns["battery"]["heard_agrees"] is True
    assert turns["battery"]["correct"] is True
    assert turns["unknown"]["correct"] is True and summary["hallucinations"] == 0
    assert turns["battery"]["transcript"] and summary["wer"] is not None
    for name in ("report.md", "latency-cdf.png", "stages.png", "barge-in-1.png", "agent.log"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_several_viewers_in_the_live_room_over_webrtc(tmp_path: Path) -> None:
    # the shipped suite gives each reply 15 s; a test checks that every answer comes and is right, not
    # how fast (that is the benchmarks' job): on a slow or busy 2-core machine three askers queue longer
    suite = (Path(__file__).parent.parent / "evals" / "suites" / "multi-viewer.yaml").read_text(encoding="utf-8")
    scenario = tmp_path / "multi-viewer.yaml"
    # and the next asker waits for 3 s of quiet, not 0.8: a slow machine's pause between two clauses
    # (the second still being synthesized) must not pass for the end of the answer
    slow = "response_timeout_ms: 60000, start: {after: answer_end, delay_ms: 3000}"
    scenario.write_text(suite.replace("response_timeout_ms: 15000", slow), encoding="utf-8")
    # one more try when a loaded machine drops a turn or Whisper mishears a synthesized question over
    # Opus ("smart plug" as "Smart Club"); a broken room fails both
    for attempt in (1, 2):
        out = tmp_path / f"report-{attempt}"
        done = run("run", str(scenario), "--transport", "webrtc", "--serve-args", "--composer catalog",
                   "--out", str(out), "--quiet")  # fmt: skip
        problems = _multi_viewer_problems(out) if done.returncode == 0 else [done.stdout + done.stderr]
        if not problems:
            break
    assert problems == []


def _multi_viewer_problems(out: Path) -> list[str]:
    turns = {t["id"]: t for t in json.loads((out / "report.json").read_text())["runs"][0]["turns"]}
    problems = []
    # each answer is found in the room's one voice and given to the viewer it was for: the agent said
    # it to them by name, and what the listener heard matched what it said (Whisper base, which
    # transcribes the heard audio, writes a short name at the start of a clip as "House" or "At Calis")
    for asked, name in (("alice-1", "Alice"), ("bob-1", "Bob"), ("alice-2", "Alice"), ("bob-2", "Bob")):
        if not (turns[asked]["agent_said"] or "").startswith(name) or turns[asked]["heard_agrees"] is not True:
            problems.append(f"{asked}: not said to {name}, or not heard as said: {turns[asked]}")
    for asked in ("bob-1", "bob-2", "alice-2", "chen-chat"):
        if turns[asked]["correct"] is not True:
            problems.append(f"{asked}: not answered correctly: {turns[asked]}")
    if turns["chen-chat"]["channel"] != "chat":
        problems.append(f"chen-chat was not asked in the chat: {turns['chen-chat']}")
    return problems


def test_voicebench_and_this_harness_agree_on_voicebenchs_mock_agent(tmp_path: Path) -> None:
    done = run("crosscheck", "--mock", "--questions", "4", "--barge-ins", "1", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads((tmp_path / "crosscheck.json").read_text())
    p50 = {r["figure"]: r for r in rows if r["stat"] == "p50"}
    response = p50["response latency (ours: voice-to-voice)"]
    assert response["n"] == [4, 4] and response["agree"], response
    assert p50["barge-in stop"]["n"] == [1, 1] and p50["barge-in stop"]["agree"]
