"""The memory check (`livehost bench-memory`, evals/memory.py) and the voices' shared arena (agent/tts/memory.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evals.memory import plot, summarize


def test_the_after_leave_readings_decide_whether_memory_settled(tmp_path: Path) -> None:
    samples = [(0.0, 700.0, "baseline"), (1.0, 900.0, "cycle 1"), (2.0, 850.0, "after 1")]
    samples += [(3.0, 990.0, "cycle 2"), (4.0, 860.0, "after 2"), (5.0, 1200.0, "cycle 3"), (6.0, 1100.0, "after 3")]
    cycles = [{"cycle": n, "start_s": 2.0 * n - 1, "end_s": 2.0 * n - 0.5} for n in (1, 2, 3)]
    report = summarize(samples, cycles)
    assert report["baseline_mb"] == 700.0 and report["after_leave_mb"] == [850.0, 860.0, 1100.0]
    assert report["peak_mb"] == 1200.0 and report["growth_after_first_cycle_mb"] == 250.0
    assert report["settled"] is False  # still growing by 240 MB a cycle
    assert summarize(samples[:5], cycles[:2])["settled"] is True
    assert plot(report, tmp_path / "memory.png").stat().st_size > 10_000


@pytest.mark.model
def test_the_voices_allocate_from_the_shared_arena_that_is_shrunk_after_each_run() -> None:
    from agent.tts.english import EnglishVoice
    from agent.tts.mandarin import MandarinVoice
    from agent.tts.memory import ShrinkingSession

    english, mandarin = EnglishVoice(), MandarinVoice()
    assert isinstance(english._piper.session, ShrinkingSession)
    assert isinstance(mandarin.acoustic, ShrinkingSession) and isinstance(mandarin.vocoder, ShrinkingSession)
    for voice, text in ((english, "The battery lasts eighteen hours."), (mandarin, "续航大约十八个小时。")):
        for _ in range(2):  # the second run starts from the arena the first one shrank
            audio = voice.synthesize(text)
            assert len(audio) > voice.sample_rate // 2 and np.abs(audio).max() > 0.1


@pytest.mark.model
def test_a_short_memory_run_samples_the_servers_rss_and_writes_its_report_and_plot(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "agent", "bench-memory", "--cycles", "1", "--viewers", "1", "--spoken", "1"]
    command += ["--idle-s", "1", "--serve-args", "--composer catalog", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert (tmp_path / "memory.png").stat().st_size > 10_000
    assert report["baseline_mb"] > 100 and len(report["after_leave_mb"]) == 1
    assert len(report["samples"]) >= 3 and {s[2] for s in report["samples"]} >= {"baseline", "cycle 1", "after 1"}
    (cycle,) = report["cycles"]
    assert cycle["answered_chat"] == 1 and cycle["answered_spoken"] == 1  # the viewers were really answered
    assert "RSS baseline" in done.stdout
