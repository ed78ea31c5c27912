"""The show over many hours on a compressed clock: `livehost bench-soak`.

The real `Show` runs the sample rundown (or any catalog's) on a virtual clock: a stand-in voice gives
each line the length it takes to say (about 14 characters a second in English, 4.5 in Chinese), the
clock moves on only as the show's audio is read, as a room's voice track would read it, and questions
hold the room for a few seconds at seeded random times. Hours of show pass in minutes. Along the
way it meets what a night brings: an offer that starts and ends, a flash sale that opens, a restart
of the process (a new `Show` from the same state file), and a catalog reload that removes a product.

What it reports: lines said per hour, lines said again word for word within an hour, live facts said
outside their window, whether the restart went on with the segment it was presenting, lines about the
removed product after the reload, and the process's memory each simulated half hour.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from agent.rtc.voice_track import Floor
from agent.show import runner
from agent.show.rundown import bridge, plan_rundown
from agent.show.runner import Show
from agent.show.state import ShowState
from evals.memory import rss_mb
from knowledge.catalog import Catalog, Text
from knowledge.live import LiveFacts
from knowledge.text import CJK

RATE = 1000  # samples per second of the stand-in voice: only lengths matter here
STEP = RATE // 5  # the clock moves on 200 ms of audio at a time
CHARS_PER_S = {"en": 14.0, "zh": 4.5}
QUESTION_S = 8.0  # a question holds the room this long (asked, answered)
START = 1_800_000_000.0  # the virtual clock's epoch (unix seconds)
COUNTED = ("3, 2, 1", "3、2、1")  # a flash sale's opening, in either language


class PacedVoice:
    """Silence as long as the line takes to say."""

    rate = RATE

    def synthesize(self, text: str, language: str, cancel: threading.Event | None = None) -> np.ndarray:
        per_s = CHARS_PER_S["zh" if CJK.search(text) else "en"]
        return np.zeros(max(1, int(len(text) / per_s * RATE)), dtype=np.float32)


@dataclasses.dataclass
class Said:
    at_s: float
    text: str
    product: str | None


async def _soak(catalog: Catalog, reduced: Catalog, hours: float, seed: int, files: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    span = hours * 3600
    clock = {"t": 0.0}
    live = LiveFacts(files / "live.json", clock=lambda: START + clock["t"])
    offered = catalog.products[0]
    offer = live.add(Text(en="Tonight only: a free strap with every order."), "offer", offered.id, 3600, 7200)
    flash = live.add(Text(en="The flash sale is live now."), "countdown", None, 2 * 3600, 600)
    current = {"catalog": catalog}
    rundown = plan_rundown(catalog, ("en", "zh"))
    state = ShowState(files / "show-state.json", rundown)
    questions = sorted(rng.uniform(60, span) for _ in range(int(hours * 30)))  # one every two minutes or so
    busy_until = 0.0
    said: list[Said] = []
    product: dict[str, str | None] = {"id": None}
    memory: list[tuple[float, float]] = [(0.0, rss_mb(os.getpid()))]
    restart_at, reload_at = min(3 * 3600, span * 0.5), min(4 * 3600, span * 0.7)
    reloaded_at = reload_at
    restart: dict[str, Any] = {}

    def start(show: Show) -> asyncio.Task[None]:
        def on_line(text: str, language: str) -> None:
            said.append(Said(clock["t"], text, product["id"]))

        def on_product(product_id: str) -> None:
            product["id"] = product_id

        return asyncio.ensure_future(show.run(PacedVoice(), floor.room_busy, on_product, on_line))

    show = Show(rundown, lambda: current["catalog"], rate=RATE, live=live, greet_every_s=0, state=state)
    floor = Floor(show, lambda: clock["t"] < busy_until)
    task = start(show)
    next_sample = 1800.0
    started = time.monotonic()
    while clock["t"] < span:
        if questions and clock["t"] >= questions[0]:
            questions.pop(0)
            busy_until = clock["t"] + QUESTION_S
        if restart_at is not None and clock["t"] >= restart_at:  # the process restarts: a new show, same file
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            restart = {"at_s": clock["t"], "before": said[-1].product, "lines_before": len(said)}
            show = Show(rundown, lambda: current["catalog"], rate=RATE, live=live, greet_every_s=0, state=state)
            floor.show = show
            task, restart_at = start(show), None  # type: ignore[assignment]
        if reload_at is not None and clock["t"] >= reload_at:
            current["catalog"], reload_at = reduced, None  # type: ignore[assignment]
        if floor.room_busy() or (show.playout.active and show.on_air):
            floor.read(STEP)
            clock["t"] += STEP / RATE
        await asyncio.sleep(0)  # the show prepares its next line or its bridge back: synthesis costs no show time
        if clock["t"] >= next_sample:
            memory.append((round(clock["t"], 1), round(rss_mb(os.getpid()), 1)))
            next_sample += 1800
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    offer_text, flash_text = offer.text.get("en"), flash.text.get("en")
    bridges = {bridge(p, lang) for p in catalog.products for lang in ("zh", "en")}
    lines = [s for s in said if s.text not in bridges and offer_text not in s.text and flash_text not in s.text]
    last: dict[str, float] = {}
    again = []
    for s in lines:
        if s.text in last and s.at_s - last[s.text] < 3600:
            again.append(s.text)
        last[s.text] = s.at_s
    window = (offer.starts_at - START, (offer.ends_at or START + span) - START)
    outside = [s.at_s for s in said if offer_text in s.text and not window[0] <= s.at_s < window[1]]
    after_restart = said[restart.get("lines_before", len(said)) :]
    removed = {p.id for p in catalog.products} - {p.id for p in reduced.products}
    return {
        "hours": hours,
        "real_s": round(time.monotonic() - started, 1),
        "lines": len(lines),
        "lines_per_hour": round(len(lines) / hours, 1),
        "lines_by_hour": [sum(1 for s in lines if h * 3600 <= s.at_s < (h + 1) * 3600) for h in range(int(hours))],
        "longest_gap_between_lines_s": round(max((b.at_s - a.at_s for a, b in pairwise(said)), default=0.0), 1),
        "said_again_within_an_hour": len(again),
        "said_again": sorted(set(again))[:20],
        "questions": int(hours * 30),
        "bridges": len(said) - len(lines),
        "offer_said": sum(offer_text in s.text for s in said),
        "offer_said_outside_its_window": len(outside),
        "flash_sale_opened": [
            round(s.at_s) for s in said if s.text.startswith(("3, 2, 1", "3、2、1")) and flash_text in s.text
        ],
        "flash_sale_opens_at_s": round(flash.starts_at - START),
        "restart": {
            **restart,
            "after": after_restart[0].product if after_restart else None,
            "resumed_same_product": bool(after_restart) and after_restart[0].product == restart.get("before"),
        },
        "lines_about_removed_product_after_reload": sum(
            1
            for s in said
            if s.product in removed and s.at_s > reloaded_at + 60  # the line then playing may end
        ),
        "memory_mb": memory,
        "memory_growth_mb_after_first_hour": round(memory[-1][1] - min(m for t, m in memory if t >= 3600), 1)
        if any(t >= 3600 for t, _ in memory)
        else None,
    }


def soak(catalog: Catalog, hours: float, seed: int, out: Path) -> dict[str, Any]:
    """Runs the compressed soak; writes report.json (and soak.png) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("live.json", "show-state.json"):
        (out / name).unlink(missing_ok=True)  # every run starts afresh
    reduced = dataclasses.replace(catalog, products=catalog.products[:-1])  # the reload drops the last product
    polls = runner.POLL_S, runner.QUIET_S
    runner.POLL_S, runner.QUIET_S = 0.0005, 0.0  # the show's waits are real time: nearly none on this clock
    try:
        report = asyncio.run(_soak(catalog, reduced, hours, seed, out))
    finally:
        runner.POLL_S, runner.QUIET_S = polls
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report
