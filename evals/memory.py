"""The memory check (issue 16): a real `livehost serve` through cycles of viewers joining, asking and
leaving, with the server's resident memory (RSS) sampled all along.

One cycle: `viewers` chat viewers join the room and each types one question; `spoken` clients open
`/ws/pcm` (the server runs with `--open-pcm` on loopback) and each asks one question aloud, at the
real pace; everyone waits for their answer (bounded) and leaves; then the server is left alone for
`idle_s`. The report gives the RSS before anyone came (baseline), the peak of each cycle, the RSS
at the end of each quiet time (everyone gone), and whether those settle on a plateau.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.audio import RATE, to_pcm16

NAMES = ("Alice", "Bob", "Chen", "Dana", "Eli", "Fang", "Gus", "Hana", "Ivan", "Jun")
FRAME_S = 0.02
ANSWER_TIMEOUT_S = 180.0  # one answer, on a busy CPU, behind the other viewers' answers on the floor
SETTLED_MB = 40.0  # the last two after-leave readings closer than this (or 3 %): a plateau


@dataclass(frozen=True)
class Plan:
    cycles: int = 5
    viewers: int = 6  # chat viewers per cycle
    spoken: int = 2  # spoken questions over /ws/pcm per cycle
    idle_s: float = 15.0  # quiet time after everyone left
    interval_s: float = 0.5  # RSS sampling period
    max_minutes: float = 30.0  # no cycle starts after this


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def rss_summary(mbs: list[float]) -> dict[str, float] | None:
    """First, last and peak of a run's RSS readings (MB); None when there are none."""
    return {"first": mbs[0], "last": mbs[-1], "peak": max(mbs)} if mbs else None


class RssSampler:
    """Samples a process's RSS every `interval_s` on a thread, each sample labelled with the phase."""

    def __init__(self, pid: int, interval_s: float) -> None:
        self.pid, self.interval_s = pid, interval_s
        self.phase = "baseline"
        self.samples: list[tuple[float, float, str]] = []  # (seconds since start, MB, phase)
        self.started = time.monotonic()  # the samples' zero, on the monotonic clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> float:
        return time.monotonic() - self.started

    def sample(self) -> float:
        mb = rss_mb(self.pid)
        self.samples.append((round(self.now(), 2), round(mb, 1), self.phase))
        return mb

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, RuntimeError):  # the server is gone: the run is ending
                self.sample()
            self._stop.wait(self.interval_s)


async def chat_viewer(
    base: str, token: str, name: str, question: str, on_sent: Callable[[], None] | None = None
) -> bool:
    """Joins the room, types `question` (then calls `on_sent`), waits for the agent's `@name` reply,
    leaves. True if answered."""
    from agent.rtc.client import RoomClient

    client = RoomClient(base, "live", token, name=name)
    await client.connect()
    try:
        await client.send({"type": "chat", "text": question})
        if on_sent is not None:
            on_sent()
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            event = await asyncio.wait_for(client.events.get(), left)
            if event["type"] == "closed":
                return False
            if event["type"] == "chat" and event.get("role") == "agent" and event["text"].startswith(f"@{name}"):
                return True
        return False
    except TimeoutError:
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.close()


async def spoken_client(url: str, audio: np.ndarray) -> bool:
    """Asks one question aloud over /ws/pcm at the real pace, waits for the answered turn, leaves."""
    import websockets

    async with websockets.connect(url, max_size=2**22) as socket:
        step = int(RATE * FRAME_S)
        padded = np.concatenate([audio, np.zeros(int(0.5 * RATE), dtype=np.float32)])
        start = time.monotonic()
        for i in range(0, len(padded), step):
            await socket.send(to_pcm16(padded[i : i + step]))
            await asyncio.sleep(max(0.0, start + (i // step + 1) * FRAME_S - time.monotonic()))
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        try:
            while (left := deadline - time.monotonic()) > 0:
                message = await asyncio.wait_for(socket.recv(), left)
                if isinstance(message, str) and json.loads(message).get("type") == "turn":
                    return True
        except TimeoutError:
            pass
        return False


def mint_viewer(base: str, admin: str, name: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/rooms/live/tokens",
        data=json.dumps({"role": "viewer", "name": name}).encode(),
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
    )
    return str(json.loads(urllib.request.urlopen(request, timeout=10).read())["token"])


async def cycle(
    base: str, admin: str, plan: Plan, questions: list[tuple[str, str]], audio: Callable[[str, str], np.ndarray]
) -> dict[str, int]:
    """Everyone of one cycle joins, asks and leaves; how many got their answer."""
    pcm_url = base.replace("http://", "ws://") + "/ws/pcm"
    chats = [
        chat_viewer(base, mint_viewer(base, admin, NAMES[i % len(NAMES)]), NAMES[i % len(NAMES)], questions[i][0])
        for i in range(plan.viewers)
    ]
    spoken = [
        spoken_client(pcm_url, audio(*questions[(plan.viewers + k) % len(questions)])) for k in range(plan.spoken)
    ]
    results = await asyncio.gather(*chats, *spoken, return_exceptions=True)
    answered = [r is True for r in results]
    return {
        "asked_chat": plan.viewers,
        "answered_chat": sum(answered[: plan.viewers]),
        "asked_spoken": plan.spoken,
        "answered_spoken": sum(answered[plan.viewers :]),
    }


def run(
    plan: Plan,
    questions: list[tuple[str, str]],
    serve_args: list[str],
    out: Path,
    progress: bool = True,
    earlier: tuple[dict[str, Any], str] | None = None,
) -> dict[str, Any]:
    """The whole check against a server started here; writes report.json and memory.png into `out`."""
    from agent.app.build import speaker as build_speaker
    from evals.agent_process import serving
    from evals.faq import machine, today
    from evals.room import wait_for_agent

    out.mkdir(parents=True, exist_ok=True)
    speaker = build_speaker(rate=RATE)
    cache: dict[tuple[str, str], np.ndarray] = {}

    def audio(text: str, lang: str) -> np.ndarray:
        if (text, lang) not in cache:
            cache[text, lang] = np.asarray(speaker.synthesize(text, lang), dtype=np.float32)
        return cache[text, lang]

    for k in range(plan.spoken):  # voiced before the server starts: the bench's own work stays out of the way
        audio(*questions[(plan.viewers + k) % len(questions)])
    admin = secrets.token_urlsafe(16)
    args = ["--open-pcm", "--host", "127.0.0.1", *serve_args]
    cycles: list[dict[str, Any]] = []
    with serving(*args, env={"LIVEHOST_ADMIN_TOKEN": admin}, log=out / "server.log") as (base, proc):
        wait_for_agent(base, "live")
        with RssSampler(proc.pid, plan.interval_s) as sampler:
            _quiet(sampler, plan.idle_s)
            deadline = time.monotonic() + plan.max_minutes * 60
            for number in range(1, plan.cycles + 1):
                if time.monotonic() > deadline:
                    break
                sampler.phase = f"cycle {number}"
                began = sampler.now()
                rotated = questions[(number - 1) * (plan.viewers + plan.spoken) % len(questions) :] + questions
                counts = asyncio.run(cycle(base, admin, plan, rotated, audio))
                ended = sampler.now()
                sampler.phase = f"after {number}"
                _quiet(sampler, plan.idle_s)
                cycles.append({"cycle": number, "start_s": round(began, 2), "end_s": round(ended, 2), **counts})
                if progress:
                    print(f"cycle {number}: {counts}, RSS {sampler.samples[-1][1]} MB after everyone left", flush=True)
    report = summarize(sampler.samples, cycles)
    report["meta"] = {
        "plan": asdict(plan),
        "serve_args": args,
        "machine": machine(),
        "date": today(),
        "questions": len(questions),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    plot(report, out / "memory.png", *(earlier or (None,)))
    return report


def _quiet(sampler: RssSampler, seconds: float) -> None:
    """Nobody connected for `seconds` (what is measured here is the server at rest); ends on a fresh sample."""
    time.sleep(seconds)
    sampler.sample()


def summarize(samples: list[tuple[float, float, str]], cycles: list[dict[str, Any]]) -> dict[str, Any]:
    baseline = [mb for _, mb, phase in samples if phase == "baseline"]
    for c in cycles:
        during = [mb for _, mb, phase in samples if phase == f"cycle {c['cycle']}"]
        after = [mb for _, mb, phase in samples if phase == f"after {c['cycle']}"]
        c["peak_mb"] = max(during + after, default=None)
        c["after_leave_mb"] = after[-1] if after else None
    left = [c["after_leave_mb"] for c in cycles if c["after_leave_mb"] is not None]
    settled = None
    if len(left) >= 2:
        step = abs(left[-1] - left[-2])
        settled = step <= max(SETTLED_MB, 0.03 * left[-2])
    return {
        "baseline_mb": baseline[-1] if baseline else None,
        "after_leave_mb": left,
        "peak_mb": max((mb for _, mb, _ in samples), default=None),
        "final_mb": samples[-1][1] if samples else None,
        "growth_after_first_cycle_mb": round(left[-1] - left[0], 1) if left else None,
        "settled": settled,
        "cycles": cycles,
        "samples": [list(s) for s in samples],
    }


def plot(report: dict[str, Any], path: Path, earlier: dict[str, Any] | None = None, label: str = "earlier") -> Path:
    """RSS over time, each cycle's busy span shaded, the after-leave readings marked; `earlier`: another
    run's report drawn in grey behind it (before a change, say)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.5), dpi=100, layout="constrained")
    ax = fig.subplots()
    if earlier is not None:
        t0, mb0 = [s[0] for s in earlier["samples"]], [s[1] for s in earlier["samples"]]
        ax.plot(t0, mb0, color="#7f7f7f", linewidth=1.0, alpha=0.8, label=f"server RSS, {label}")
    t = [s[0] for s in report["samples"]]
    mb = [s[1] for s in report["samples"]]
    ax.plot(t, mb, color="#1f77b4", linewidth=1.2, label="server RSS" + (", this run" if earlier else ""))
    for c in report["cycles"]:
        ax.axvspan(c["start_s"], c["end_s"], color="#ff7f0e", alpha=0.12, linewidth=0)
    last_of: dict[str, tuple[float, float]] = {}  # the last sample of each quiet time
    for s in report["samples"]:
        if s[2].startswith("after"):
            last_of[s[2]] = (s[0], s[1])
    if last_of:
        xs, ys = zip(*last_of.values(), strict=True)
        ax.plot(xs, ys, "o", color="#2ca02c", label="everyone left (end of quiet time)")
    if report["baseline_mb"] is not None:
        ax.axhline(report["baseline_mb"], color="#7f7f7f", linestyle="--", linewidth=1, label="before anyone came")
    plan = report.get("meta", {}).get("plan", {})
    title = "Server RSS over a long run"
    if plan:
        title += f": {len(report['cycles'])} cycles of {plan['viewers']} chat viewers + {plan['spoken']} spoken"
    ax.set_title(title + (f"\n{report['meta']['machine']} · {report['meta']['date']}" if "meta" in report else ""))
    ax.set_xlabel("seconds (shaded: viewers connected)")
    ax.set_ylabel("RSS (MB)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.savefig(path)
    return path
