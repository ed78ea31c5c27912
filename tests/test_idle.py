"""`livehost bench-idle` (evals/idle.py): the CPU share of a process read from /proc, per thread name;
and a real server measured while nobody is there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.app.cli import main
from evals import idle

SPIN = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass"
SLEEP = "import time\ntime.sleep(60)"


@pytest.mark.parametrize(("code", "low", "high"), [(SPIN, 50.0, 101.0), (SLEEP, 0.0, 5.0)])
def test_a_spinning_process_uses_a_core_and_a_sleeping_one_none(code: str, low: float, high: float) -> None:
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        measured = idle.measure(child.pid, 1.5, interval_s=0.5)
    finally:
        child.kill()
        child.wait()
    assert low <= measured["cpu_percent_of_a_core"] <= high, measured
    assert measured["rss_mb"]["last"] > 1, measured
    if code == SPIN:  # the one thread that spins is named, with its share
        assert measured["by_thread"][0]["percent"] >= low, measured


@pytest.mark.model
def test_bench_idle_measures_a_real_server_with_nobody_there(tmp_path: Path) -> None:
    assert main(["bench-idle", "--minutes", "0.2", "--settle-s", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert 0 <= report["cpu_percent_of_a_core"] < 200 and report["rss_mb"]["last"] > 100, report
    assert report["seconds"] >= 11, report
