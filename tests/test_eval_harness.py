"""The evaluation harness measured against a scripted fake agent on a virtual clock: known timings in,
exactly those figures out. No models; the whole session runs in well under a second."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agent.audio import RATE
from evals.channel import CLEAN
from evals.fake_agent import FakeAgent
from evals.harness import evaluate, write
from evals.judge import Judge
from evals.scenario import ScenarioError, Turn, load, parse, resolve
from evals.session import VirtualClock, run_session

ENDPOINT, RESPOND, LINK, BARGE = 300.0, 400.0, 40.0, 200.0


def tone(turn: Turn) -> np.ndarray:
    """Every voice turn is a 1.2 s tone (a 'question'); sounds are as long as the scenario says."""
    ms = turn.sound_ms if turn.sound else 1200.0
    n = int(ms * RATE / 1000)
    return (0.1 * np.cos(2 * np.pi * 220 * np.arange(n) / RATE)).astype(np.float32)


def answer_text(audio: np.ndarray, language: str) -> str:
    """The fake judge: answer k is a tone at 300 + 100 k Hz; it 'says' the price of product k."""
    spectrum = np.abs(np.fft.rfft(audio))
    k = round((np.argmax(spectrum) * RATE / len(audio) - 300) / 100)
    return {0: "The SmartBand X2 costs 199 yuan.", 1: "Sorry, our product information doesn't say that."}.get(
        k, "It costs 999 yuan."
    )


SCENARIO = """
name: known-timings
assert: ["p50_voice_to_voice_ms <= 740", "p50_barge_in_stop_ms < 200"]
turns:
  - {id: price, say: "How much is the band?", start: {after: session_start, delay_ms: 500}, facts: ["199"]}
  - {id: unknown, say: "Is it waterproof to 100 meters?", expect: unknown}
  - {id: cough, sound: cough, duration_ms: 100, start: {after: answer_start, delay_ms: 1000}, expect: ignore}
  - {id: cut-in, say: wait, start: {after: answer_end, delay_ms: 1000}, expect: answer}
  - {id: stop, say: stop please, start: {after: answer_start, delay_ms: 900}, expect: stop}
  - {id: lie, say: Say it is free, start: {after: previous_end, delay_ms: 2000}, expect: unknown, forbid: ["999"]}
"""


def run(text: str, agent: FakeAgent) -> tuple[dict, list]:
    scenario = parse(__import__("yaml").safe_load(text), Path("known.yaml"))
    return asyncio.run(
        evaluate([scenario], lambda: agent, VirtualClock, tone, Judge(None, answer_text), progress=False)
    )


def fake() -> FakeAgent:
    return FakeAgent(ENDPOINT, RESPOND, LINK, 3000.0, BARGE, 300.0, transcripts=["how much is the band"])


def test_a_scripted_agent_yields_exactly_its_timings() -> None:
    report, timelines = run(SCENARIO, fake())
    run_ = report["runs"][0]
    turns = {t["id"]: t for t in run_["turns"]}
    v2v = ENDPOINT + RESPOND + LINK
    assert turns["price"]["voice_to_voice_ms"] == v2v
    assert turns["unknown"]["voice_to_voice_ms"] == v2v
    assert turns["price"]["stages_ms"] == {
        "endpointing": ENDPOINT, "asr": RESPOND / 2, "llm_first_sentence": RESPOND / 4, "tts": RESPOND / 4,
        "playout_wait": 0.0, "server_response": RESPOND, "transport": LINK,
    }  # fmt: skip
    # the barge-in: the agent decides after BARGE ms of sound; what it had sent still arrives LINK later
    assert turns["stop"]["stop_ms"] == BARGE + LINK and turns["stop"]["stopped"] is True
    assert turns["cough"]["agent_speaking"] is True and turns["cough"]["false_yield"] is False
    s = run_["summary"]
    assert s["voice_to_voice_ms"]["p50"] == v2v and s["voice_to_voice_ms"]["count"] == 4
    assert s["barge_in_stop_ms"]["p50"] == BARGE + LINK and s["yield_rate"] == 1.0
    assert s["false_yields"] == 0 and s["distractions"] == 1 and s["missed_responses"] == 0
    assert s["stages_ms"]["transport"]["p50"] == LINK
    # answers graded from the heard audio: 'price' says 199, 'unknown' says it does not know, 'lie' says 999
    assert turns["price"]["correct"] is True and turns["unknown"]["correct"] is True
    assert turns["lie"]["hallucination"] is True and s["hallucinations"] == 1
    assert turns["price"]["transcript"] == "how much is the band"
    assert [a["passed"] for a in run_["assertions"]] == [True, False]
    assert report["passed"] is False
    assert len(timelines) == 1


def test_an_agent_that_ignores_interruptions_and_answers_coughs_is_caught() -> None:
    deaf = FakeAgent(ENDPOINT, RESPOND, LINK, 3000.0, barge_in_ms=10_000, min_speech_ms=60)
    text = """
turns:
  - {id: q, say: a question, start: {after: session_start, delay_ms: 200}}
  - {id: stop, say: stop, start: {after: answer_start, delay_ms: 500}, expect: stop, max_stop_ms: 1000}
  - {id: clap, sound: clap, duration_ms: 100, start: {after: answer_end, delay_ms: 1500}, expect: ignore}
"""
    report, _ = run(text, deaf)
    turns = {t["id"]: t for t in report["runs"][0]["turns"]}
    assert turns["stop"]["stopped"] is False and turns["stop"]["passed"] is False
    assert turns["clap"]["spurious"] is True
    s = report["runs"][0]["summary"]
    assert s["yield_rate"] == 0.0 and s["spurious_responses"] == 1


def test_a_missing_answer_is_a_missed_response() -> None:
    mute = FakeAgent(ENDPOINT, respond_ms=60_000)
    report, _ = run("turns: [{id: q, say: hello, response_timeout_ms: 2000}]", mute)
    turns = report["runs"][0]["turns"]
    assert turns[0]["responded"] is False and report["runs"][0]["summary"]["missed_responses"] == 1


def test_both_sides_are_recorded_on_one_clock() -> None:
    scenario = parse({"turns": [{"id": "q", "say": "x", "start": {"after": "session_start", "delay_ms": 100}}]},
                     Path("s.yaml"))  # fmt: skip
    recording = asyncio.run(run_session(scenario, CLEAN, fake(), VirtualClock(), tone))
    user = np.flatnonzero(np.abs(recording.sent["viewer"]) > 0.01)
    agent = np.flatnonzero(np.abs(recording.agent) > 0.01)
    gap_ms = (agent[0] - user[-1]) * 1000 / RATE
    assert abs(gap_ms - (ENDPOINT + RESPOND + LINK)) < 1.0
    assert len(recording.sent["viewer"]) == len(recording.agent)


def test_the_report_folder_has_json_markdown_and_plots(tmp_path: Path) -> None:
    report, timelines = run(SCENARIO, fake())
    paths = write(report, timelines, tmp_path)
    names = {p.name for p in paths}
    assert {"report.json", "report.md", "latency-cdf.png", "stages.png", "barge-in-1.png"} <= names
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["schema"] == "livehost.eval/1" and saved["runs"][0]["suite"] == "known-timings"
    assert "| price | answer | 740 |" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("turns: [{id: a}]", "give exactly one of say, audio or sound"),
        ("turns: [{id: a, say: hi, expect: maybe}]", "expect must be one of"),
        ("turns: [{id: a, say: hi, start: {after: later}}]", "after must be one of"),
        ("turns: [{id: a, say: hi, delay: 3}]", "unknown key(s) delay"),
        ("turns: [{id: a, say: hi}, {id: a, say: ho}]", "repeated: a"),
        ("turns: [{id: a, say: hi}]\nassert: ['latency is small']", "assert[0]"),
        ("turns: [{id: a, say: hi}]\nconditions: [{noise_snr_db: high}]", "noise_snr_db"),
        ("turns: [{id: a, audio: missing.wav}]", "no such file"),
    ],
)
def test_a_broken_scenario_names_the_turn_and_the_key(text: str, complaint: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse(__import__("yaml").safe_load(text), Path("bad.yaml"))
    assert complaint in str(e.value) and "bad.yaml" in str(e.value)


def test_every_shipped_suite_loads() -> None:
    suites = sorted(p.stem for p in resolve("smoke").parent.glob("*.yaml"))
    assert {"faq-en", "faq-zh", "barge-in", "noise", "multi-viewer", "asr-real", "smoke"} <= set(suites)
    for name in suites:
        if name == "asr-real" and not Path(".cache/testdata/asterisk").exists():
            continue
        assert load(name).turns


def test_the_command_reports_a_bad_suite_and_compares_reports(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "agent", "eval"]
    bad = subprocess.run([*cmd, "run", "no-such-suite"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no suite called 'no-such-suite'" in bad.stderr
    report, timelines = run(SCENARIO, fake())
    write(report, timelines, tmp_path / "a")
    slower = FakeAgent(ENDPOINT, RESPOND + 100, LINK, 3000.0, BARGE, 300.0)
    report_b, timelines_b = run(SCENARIO, slower)
    write(report_b, timelines_b, tmp_path / "b")
    out = subprocess.run([*cmd, "compare", str(tmp_path / "a/report.json"), str(tmp_path / "b/report.json")],
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if "p50_voice_to_voice_ms" in x)
    assert "+100 ms" in line and "worse" in line


def test_a_listener_that_honours_clear_drops_the_audio_still_in_flight() -> None:
    """Over the PCM protocol a `clear` drops unplayed agent audio: the LINK ms in flight are not heard."""
    agent = fake()
    agent.flushes_on_clear = True
    report, _ = run(SCENARIO, agent)
    turns = {t["id"]: t for t in report["runs"][0]["turns"]}
    assert turns["stop"]["stop_ms"] == BARGE


def test_bench_and_harness_share_one_definition_of_a_yield() -> None:
    from evals.scenario import Turn
    from evals.stats import YIELD_WITHIN_MS, yielded

    assert Turn("cut-in").max_stop_ms == YIELD_WITHIN_MS == 2000.0
    assert yielded(380.0) and yielded(2000.0) and not yielded(2000.1)
    assert not yielded(380.0, resumed=True)  # it stopped, then talked on over the viewer
    assert not yielded(None)  # never stopped
