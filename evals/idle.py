"""What `livehost serve` costs when nobody is there (issue 17): CPU and memory over an idle stretch.

A real server is started with the given arguments; once its agent is in the room, it is left alone
(after a settling time) and its CPU time is read from /proc before and after: the share of one core
it used, and the same per thread name (the threads of the event loop, the codecs, the models), so
that what still spins shows by name. RSS is sampled all along.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def _thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (threads of the same name added up)."""
    per: dict[str, float] = defaultdict(float)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        per[name] += (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return per


def measure(pid: int, seconds: float, interval_s: float = 2.0) -> dict[str, Any]:
    """The process's share of one core over `seconds`, in all and per thread name; RSS along the way."""
    from evals.memory import RssSampler, rss_summary

    before, started = _thread_cpu(pid), time.monotonic()
    with RssSampler(pid, interval_s) as sampler:
        time.sleep(seconds)
    after, elapsed = _thread_cpu(pid), time.monotonic() - started
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    busiest = sorted(((round(100 * s / elapsed, 2), name) for name, s in used.items() if s > 0), reverse=True)
    return {
        "seconds": round(elapsed, 1),
        "cpu_percent_of_a_core": round(100 * sum(used.values()) / elapsed, 2),
        "by_thread": [{"thread": name, "percent": pct} for pct, name in busiest[:12]],
        "rss_mb": rss_summary([mb for _, mb, _ in sampler.samples]),
    }


def run(serve_args: list[str], minutes: float, settle_s: float, out: Path) -> dict[str, Any]:
    """Starts the server, waits for its agent and `settle_s`, then measures `minutes` of idleness."""
    import json

    from evals.agent_process import serving
    from evals.faq import machine, today
    from evals.room import wait_for_agent

    out.mkdir(parents=True, exist_ok=True)
    with serving(*serve_args, log=out / "server.log") as (url, proc):
        wait_for_agent(url, "live")
        time.sleep(settle_s)
        report = measure(proc.pid, minutes * 60)
    report["meta"] = {"serve_args": serve_args, "settle_s": settle_s, "machine": machine(), "date": today()}
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
