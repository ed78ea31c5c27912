"""The show, measured from a viewer's seat: `livehost bench-show`.

A real server hosts a show of the catalog; a viewer in the live room (aiortc) hears the agent's
audio and reads its captions for a few minutes while typed questions come at seeded random times.
From what arrived: the share of time the host is speaking, the longest silence, whether the show
resumes where a question cut it (the next line after the answer is the one after the cut line, not
the cut line again, not a later one), repeated sentences per hour, numbers said that the catalog
does not have, and how soon answers begin, with the show and, in a second run, without it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.answer.grounding import spoken_numbers
from agent.show.rundown import HOOKS, bridge, plan_rundown, segment_lines
from evals import show_timeline
from evals.agent_process import serving
from evals.faq import catalog_numbers
from evals.memory import RssSampler, rss_summary
from evals.stats import percentiles
from knowledge.catalog import Catalog

ADMIN = "bench-show-admin"
RSS_INTERVAL_S = 2.0


@dataclass
class Heard:
    """What the viewer received: audio loudness per frame, captions and chat replies, with times."""

    frames: list[tuple[float, float]] = field(default_factory=list)  # (time, rms)
    captions: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    replies: list[tuple[float, str]] = field(default_factory=list)
    asked: list[tuple[float, str]] = field(default_factory=list)


async def watch(
    url: str, token: str, seconds: float, questions: list[tuple[float, str]], admin: str | None = None
) -> Heard:
    """One viewer hears the show for `seconds` and types the scheduled questions; with `admin` (a token
    that mints viewers), every other question is asked by a visitor who joins, asks, waits for its
    reply and leaves, so that viewers come and go over a long run."""
    from aiortc import RTCPeerConnection

    from agent.rtc.agent_participant import mono
    from agent.rtc.client import RoomClient
    from evals.memory import NAMES, chat_viewer, mint_viewer

    heard = Heard()
    client = RoomClient(url, "live", token)
    welcome = await client.connect()
    agent = next(p for p in welcome["participants"] if p["role"] == "agent")
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="recvonly")
    channel = pc.createDataChannel("captions")
    channel.on("message", lambda m: heard.captions.append((time.monotonic(), json.loads(m))))
    tasks: list[asyncio.Task[Any]] = []

    async def hear(track: Any) -> None:
        while True:
            frame = await track.recv()
            samples = mono(frame)
            heard.frames.append((time.monotonic(), float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0))

    async def replies() -> None:
        while (event := await client.events.get())["type"] != "closed":
            if event["type"] == "chat" and event.get("role") == "agent":
                heard.replies.append((time.monotonic(), str(event.get("text", ""))))

    pc.on("track", lambda track: tasks.append(asyncio.ensure_future(hear(track))))
    tasks.append(asyncio.ensure_future(replies()))
    await client.subscribe(agent["id"], pc)
    start = time.monotonic()
    for k, (at, text) in enumerate(questions):
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        if admin is not None and k % 2 == 1:
            name = NAMES[k // 2 % len(NAMES)]
            visitor = await asyncio.to_thread(mint_viewer, url, admin, name)
            sent = lambda text=text: heard.asked.append((time.monotonic(), text))  # noqa: E731
            tasks.append(asyncio.ensure_future(chat_viewer(url, visitor, name, text, on_sent=sent)))
            continue
        heard.asked.append((time.monotonic(), text))
        await client.send({"type": "chat", "text": text})
    await asyncio.sleep(max(0.0, start + seconds - time.monotonic()))
    for task in tasks:
        task.cancel()
    await pc.close()
    await client.close()
    return heard


def measure(heard: Heard, catalog: Catalog) -> dict[str, Any]:
    shows = [(t, c["text"]) for t, c in heard.captions if c.get("show") and c.get("text")]
    begun = shows[0][0] if shows else None
    frames = [(t, rms) for t, rms in heard.frames if begun is not None and t >= begun]
    bridges = {bridge(p, lang) for p in catalog.products for lang in ("zh", "en")}
    lines = [(t, text) for t, text in shows if text not in bridges]
    answers = [(t, c["text"]) for t, c in heard.captions if c.get("role") == "agent" and not c.get("show")]
    following = next_lines(catalog)
    latency = []
    resumed: list[bool] = []
    per_question: list[tuple[float, float | None]] = []  # (asked, answer begins ms), on the monotonic clock
    for asked_at, _ in sorted(heard.asked):
        first = next((t for t, _ in answers if t > asked_at), None)
        per_question.append((asked_at, round((first - asked_at) * 1000, 1) if first is not None else None))
        if first is not None:
            latency.append((first - asked_at) * 1000)
        before = [text for t, text in lines if t < asked_at]
        after = [text for t, text in lines if t > (first or asked_at)]
        if before and after:
            resumed.append(after[0] == following.get(before[-1]))
    said = [text for _, text in shows] + [text for _, text in answers]
    everything = catalog_numbers(catalog, tuple(p.id for p in catalog.products))
    stray = sorted({n for text in said for n in spoken_numbers(text)} - everything)
    span_h = max((frames[-1][0] - frames[0][0]) / 3600, 1e-9) if frames else 1e-9
    counted = Counter(text for _, text in lines)
    repeats = sum(n - 1 for n in counted.values() if n > 1)
    return {
        "show_lines": len(lines),
        "speaking_share": show_timeline.speaking_share(frames),
        "longest_silence_s": show_timeline.longest_silence(frames),
        "resume_accuracy": round(sum(resumed) / len(resumed), 3) if resumed else None,
        "resumes_checked": len(resumed),
        "repeated_sentences_per_hour": round(repeats / span_h, 1),
        "repeated": sorted(text for text, n in counted.items() if n > 1),
        "numbers_not_in_catalog": stray,
        "answer_begins_ms": percentiles(latency),
        "questions": len(heard.asked),
        "answered": len(latency),
        "per_question": per_question,
        "begun": begun,
    }


def next_lines(catalog: Catalog) -> dict[str, str]:
    """Each show line -> the line that follows it in its segment (after the last: the next segment's first)."""
    segments = plan_rundown(catalog).segments
    following: dict[str, str] = {}
    for loop in range(len(HOOKS["en"])):  # the connecting phrases change with the loop, five times round
        said = [segment_lines(catalog, catalog.product(s.product_id), s.language, loop) for s in segments]
        for k, lines in enumerate(said):
            for line, after in zip(lines, [*lines[1:], said[(k + 1) % len(said)][0]], strict=True):
                following.setdefault(line, after)
    return following


def run(
    catalog: Catalog,
    questions: list[str],
    minutes: float,
    seed: int,
    out: Path,
    baseline: bool,
    window_min: float = 5.0,
    visitors: bool = False,
) -> dict:
    """Each run against its own served agent; the show's run also sampled window by window (memory,
    latency, speaking share) and plotted into `show-run-<run>.png`."""
    seconds = minutes * 60
    rng = random.Random(seed)
    # the first question after the show has begun; then spread out, each with time to be answered
    times = sorted(rng.uniform(20, max(21.0, seconds - 25)) for _ in questions)
    schedule = list(zip(times, questions, strict=True))
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, show in (("with show", True), ("without show", False)) if baseline else (("with show", True),):
        args = ["--composer", "catalog", "--greet-every", "0", "--report", str(out / "report-server.json")]
        state = out / "show-state.json"
        state.unlink(missing_ok=True)  # every run starts the show from the top
        args += ["--live-facts", str(out / "live.json"), "--show-state", str(state)]
        args += ["--show", "auto"] if show else []
        log = out / f"agent-{name.replace(' ', '-')}.log"
        with serving(*args, env={"LIVEHOST_ADMIN_TOKEN": ADMIN}, log=log) as (url, proc):
            token = _viewer_token(url)
            with RssSampler(proc.pid, RSS_INTERVAL_S) as sampler:
                heard = asyncio.run(watch(url, token, seconds, schedule, admin=ADMIN if visitors else None))
        results[name] = measure(heard, catalog)
        results[name]["server_errors"] = server_errors(log)
        rss = [(sampler.started + t, mb) for t, mb, _ in sampler.samples]
        results[name].update(_over_time(results[name], heard, rss, window_min, out, name, minutes))
    with_show = results["with show"]["answer_begins_ms"].get("p50")
    without = results.get("without show", {}).get("answer_begins_ms", {}).get("p50")
    report = {
        "minutes": minutes,
        "seed": seed,
        "questions": questions,
        "runs": results,
        "latency_with_show_vs_without": round(with_show / without, 3) if with_show and without else None,
    }
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def server_errors(log: Path) -> list[str]:
    """The server's logged errors and tracebacks (the first line of each)."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")]


def _over_time(
    result: dict[str, Any],
    heard: Heard,
    rss: list[tuple[float, float]],
    window_min: float,
    out: Path,
    name: str,
    minutes: float,
) -> dict[str, Any]:
    """Window by window on the show's clock (from its first line); replaces the raw clock times in the result."""
    from evals.faq import machine, today

    begun = result.pop("begun") or (heard.frames[0][0] if heard.frames else time.monotonic())
    end = heard.frames[-1][0] if heard.frames else begun
    asked = result.pop("per_question")
    lines = [t for t, c in heard.captions if c.get("show") and c.get("text")]
    rows = show_timeline.windows(heard.frames, asked, lines, rss, begun, end, window_min * 60)
    relative = [(round(t - begun, 2), ms) for t, ms in asked]
    rss_rel = [(round(t - begun, 2), mb) for t, mb in rss]
    title = f"bench-show {name}: {minutes:g} min, {len(asked)} questions\n{machine()} · {today()}"
    plot = show_timeline.plot(rows, rss_rel, relative, title, out / f"show-run-{name.replace(' ', '-')}.png")
    return {
        "windows": rows,
        "flatness": show_timeline.flatness(rows),
        "rss_mb": rss_summary([mb for _, mb in rss]),
        "asked": relative,
        "rss_samples": rss_rel,
        "plot": plot.name,
    }


def _viewer_token(url: str) -> str:
    import httpx

    deadline = time.monotonic() + 180
    while True:  # the agent joins its room once its models are loaded
        health = httpx.get(f"{url}/healthz").json()
        if "agent" in health["rooms"].get("live", []):
            break
        if time.monotonic() > deadline:
            raise RuntimeError("the agent never joined its room")
        time.sleep(0.5)
    reply = httpx.post(
        f"{url}/api/rooms/live/tokens",
        json={"role": "viewer", "name": "Bench"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    return str(reply.json()["token"])
