"""Plays one scenario through a transport and records both sides on one sample clock.

Every 20 ms the session decides which turn starts (its anchor: the previous turn, the agent's
answer starting or ending, as the listener hears it), sends each viewer's next microphone frame
(after the channel condition), and files whatever agent audio and messages arrived at the moment
they arrived. Sample n of every track is session time n / 16000 s, so a figure read off the
tracks is a difference of two instants on one clock. The clock is real time for real agents and
virtual for the scripted fake agent of the harness's own tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from agent.audio import RATE, voiced_span
from evals.activity import Activity
from evals.channel import Channel, Condition, speech_level_dbfs
from evals.scenario import Scenario, Turn

FRAME_MS = 20
STEP = RATE * FRAME_MS // 1000
LAG = 5 * STEP  # the streaming detector trails arrivals by 100 ms, so audio is filed where it arrived
SILENT = 10 ** (-60 / 20)  # a chunk of agent audio with no sample above this is silence
TAIL_S = 2.0  # after the last turn: the agent has been quiet this long, or it answered and stopped
MAX_SESSION_S = 3600.0


class Clock(Protocol):
    realtime: bool

    def now(self) -> float: ...

    def restart(self) -> None: ...

    async def sleep_until(self, at: float) -> None: ...


class RealClock:
    realtime = True

    def __init__(self) -> None:
        self.origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.origin

    def restart(self) -> None:
        self.origin = time.monotonic()

    async def sleep_until(self, at: float) -> None:
        delay = at - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


class VirtualClock:
    """Time moves only when the session waits: a whole session runs in milliseconds, exactly."""

    realtime = False

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def restart(self) -> None:
        self.t = 0.0

    async def sleep_until(self, at: float) -> None:
        self.t = max(self.t, at)
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Heard:
    """Agent audio as it reached the listener (16 kHz), and when."""

    at: float
    pcm: np.ndarray


@dataclass(frozen=True)
class Said:
    """A message from the agent (transcript, turn record, clear), and when it arrived."""

    at: float
    message: dict[str, Any]


class Transport(Protocol):
    name: str
    flushes_on_clear: bool  # the listener drops unplayed agent audio on a `clear` message (the PCM protocol)

    async def open(self, viewers: list[str], clock: Clock) -> None: ...

    async def send(self, viewer: str, frame: np.ndarray) -> None: ...

    async def chat(self, viewer: str, text: str) -> None: ...

    def drain(self) -> list[Heard | Said]: ...

    async def close(self) -> None: ...


@dataclass
class Played:
    """A turn as it was played: when its sound started and where its speech was, on the session clock."""

    turn: Turn
    start: float
    end: float
    speech_start: float | None  # true edges, from the clean stimulus; None for a silent (chat) turn
    speech_end: float | None
    trigger: str  # anchor | timeout


@dataclass
class Recording:
    scenario: Scenario
    condition: Condition
    transport: str
    sent: dict[str, np.ndarray]  # per viewer: the microphone as sent, after the channel
    agent: np.ndarray  # what the listener received
    played: list[Played]
    messages: list[Said]
    lost_frames: int = 0
    truncated: bool = False
    lag_ms: float = 0.0  # how far the session ever fell behind its schedule (a busy machine); small is good
    started_at: float = field(default_factory=time.time)

    @property
    def duration(self) -> float:
        return len(self.agent) / RATE

    @property
    def viewers_mixed(self) -> np.ndarray:
        """Every viewer's microphone as sent, on one track."""
        return np.asarray(np.sum(list(self.sent.values()), axis=0), dtype=np.float32)

    def next_sound(self, played: Played) -> float:
        """When the turn after `played` began to sound (the end of the recording if none did)."""
        k = self.played.index(played)
        later = [p.speech_start if p.speech_start is not None else p.start for p in self.played[k + 1 :]]
        return min(later, default=self.duration)


class _Track:
    def __init__(self) -> None:
        self.data = np.zeros(RATE * 60, dtype=np.float32)

    def ensure(self, end: int) -> None:
        if end > len(self.data):
            self.data = np.concatenate([self.data, np.zeros(max(end - len(self.data), len(self.data)), np.float32)])

    def write(self, at: int, pcm: np.ndarray) -> None:
        self.ensure(at + len(pcm))
        self.data[at : at + len(pcm)] = pcm


async def run_session(
    scenario: Scenario,
    condition: Condition,
    transport: Transport,
    clock: Clock,
    render: Callable[[Turn], np.ndarray],
    seed: int = 0,
    on_turn: Callable[[Played], None] | None = None,
) -> Recording:
    clips = [render(turn) for turn in scenario.turns]
    viewers = scenario.viewers
    level = speech_level_dbfs([c for c in clips if len(c)] or [np.zeros(STEP, np.float32)])
    channels = {v: Channel(condition, level, RATE, seed=seed + k) for k, v in enumerate(viewers)}
    clean = {v: _Track() for v in viewers}
    sent = {v: _Track() for v in viewers}
    agent = _Track()
    activity = Activity(RATE)
    heard_to = 0  # agent samples analysed so far
    cursor = 0  # end of the agent audio filed so far: late packets queue behind it, like a player
    played: list[Played] = []
    messages: list[Said] = []
    waiting_since = 0.0
    pending: dict[str, np.ndarray] = {}
    frame = 0
    truncated = False
    await transport.open(viewers, clock)
    transport.drain()  # whatever came while joining is not part of the session
    clock.restart()  # session time 0 is now: a microphone fed from behind would stay behind
    lag = 0.0
    try:
        while True:
            pos = frame * STEP
            now = pos / RATE
            if now > MAX_SESSION_S:
                truncated = True
                break
            await clock.sleep_until(now)
            lag = max(lag, clock.now() - now)
            for viewer, out in pending.items():  # the frame that has just been spoken, whole
                await transport.send(viewer, out)
            for item in transport.drain():
                if isinstance(item, Heard):
                    if not len(item.pcm) or float(np.abs(item.pcm).max()) < SILENT:
                        continue  # a continuous stream's silence (WebRTC) says nothing and must not queue
                    at = max(int(round(item.at * RATE)), cursor, heard_to)
                    agent.write(at, item.pcm)
                    cursor = at + len(item.pcm)
                else:
                    messages.append(item)
                    if item.message.get("type") == "clear" and transport.flushes_on_clear:
                        cut = max(int(round(item.at * RATE)), heard_to)  # the agent's audio not yet played
                        agent.data[cut:cursor] = 0.0
                        cursor = min(cursor, cut)
            if pos - LAG > heard_to:
                agent.ensure(pos)
                activity.push(agent.data[heard_to : pos - LAG])
                heard_to = pos - LAG
            if len(played) < len(scenario.turns):
                turn = scenario.turns[len(played)]
                trigger = _due(turn, played, activity, now, waiting_since)
                if trigger:
                    clip = clips[len(played)]
                    first, last = voiced_span(clip, RATE) if len(clip) else (0, 0)
                    clean[turn.viewer].write(pos, clip)
                    p = Played(
                        turn, now, now + len(clip) / RATE,
                        now + first / RATE if last else None, now + last / RATE if last else None, trigger,
                    )  # fmt: skip
                    played.append(p)
                    waiting_since = p.end
                    if turn.channel == "chat" and turn.say:
                        await transport.chat(turn.viewer, turn.say)
                    if on_turn is not None:
                        on_turn(p)
            for viewer in viewers:
                clean[viewer].ensure(pos + STEP)
                pending[viewer] = channels[viewer].process(clean[viewer].data[pos : pos + STEP])
                sent[viewer].write(pos, pending[viewer])
            frame += 1
            if len(played) == len(scenario.turns) and _finished(played[-1], activity, now, cursor / RATE):
                break
    finally:
        await transport.close()
    for item in transport.drain():
        if isinstance(item, Said):  # audio still in flight when the session ended is not heard
            messages.append(item)
    end = max(frame * STEP, cursor)
    for track in (*sent.values(), agent):
        track.ensure(end)
    return Recording(
        scenario=scenario,
        condition=condition,
        transport=transport.name,
        sent={v: t.data[:end].copy() for v, t in sent.items()},
        agent=agent.data[:end].copy(),
        played=played,
        messages=messages,
        lost_frames=sum(c.lost_frames for c in channels.values()),
        truncated=truncated,
        lag_ms=round(lag * 1000, 1),
    )


def _due(turn: Turn, played: list[Played], activity: Activity, now: float, waiting_since: float) -> str:
    """'anchor' or 'timeout' when `turn` should start now, '' while it waits."""
    rule = turn.start
    if now - waiting_since >= rule.waits_ms(played[-1].turn if played else None) / 1000:
        return "timeout"
    anchor = _anchor(rule.after, played, activity, now)
    return "anchor" if anchor is not None and now >= anchor + rule.delay_ms / 1000 else ""


def _anchor(after: str, played: list[Played], activity: Activity, now: float) -> float | None:
    if after == "session_start" or not played:
        return 0.0
    previous = played[-1]
    if after == "previous_start":
        return previous.start
    if after == "previous_end":
        return previous.end
    if after == "answer_start":
        return activity.onset_since(previous.start)
    # answer_end: the agent answered the previous turn (when it should) and has been quiet since
    if activity.speaking or now < previous.end:
        return None
    if previous.turn.responds and activity.onset_since(previous.start) is None:
        return None
    return max(previous.end, activity.last_end)


def _finished(last: Played, activity: Activity, now: float, audio_end: float) -> bool:
    if activity.speaking or now < max(last.end, audio_end) + TAIL_S:
        return False
    if not last.turn.responds:
        return True
    answered = activity.onset_since(last.start) is not None
    return answered or now >= last.end + last.turn.response_timeout_ms / 1000
