"""The agent's voice in the room: one outgoing audio track fed by the conversation holding the floor.

The agent talks with each speaking participant in a conversation of its own, but it has one voice:
the `Floor` plays one answer at a time, in the order the questions were asked, and the others wait
their turn (their audio stays queued, unplayed, so what each viewer heard stays exact). When a
show runs (agent/show/runner.py), it gets the voice only while nobody is asking or being answered. The track is
paced by its own clock in 20 ms frames, at 48 kHz, the rate WebRTC's Opus runs at.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agent.audio import to_pcm16
from agent.rtc.avatar import mouth_level
from agent.session.conversation import Conversation
from agent.show.runner import Show

RATE = 48000
FRAME_MS = 20
UNHEARD_FRAMES = 10  # frames played per step while nobody receives the voice


class Floor:
    def __init__(self, show: Show | None = None, hold_show: Callable[[], bool] | None = None) -> None:
        self.conversations: list[Conversation] = []
        self.holder: Conversation | None = None
        self.level = 0.0  # mouth openness for the avatar, from the frame just played
        self.show = show
        # the show must wait (the agent is paused or muted); busy conversations always hold it
        self.hold_show = hold_show or (lambda: False)
        self.quiet = np.zeros(0, dtype=np.float32)  # what `read` returns while nothing plays (read-only)

    def room_busy(self) -> bool:
        """Someone is asking or being answered (or the agent is held): the show stays silent."""
        return self.hold_show() or any(c.busy for c in self.conversations)

    def read(self, n: int) -> np.ndarray:
        if self.holder is None or not self.holder.playout.active or self.holder not in self.conversations:
            # one queue for the whole room: of the answers ready to play, the one asked first goes first
            ready = [c for c in self.conversations if c.playout.active]
            self.holder = min(ready, key=lambda c: c.asked_at) if ready else None
        frame = self.holder.play(n) if self.holder else None
        if frame is None and self.show is not None:
            frame = self.show.read(n, self.room_busy())
        if frame is None:  # the same silent frame each time: an idle room costs no new arrays
            if len(self.quiet) != n:
                self.quiet = np.zeros(n, dtype=np.float32)
                self.quiet.flags.writeable = False
            self.level = 0.0
            return self.quiet
        self.level = mouth_level(frame)
        return frame


class VoiceTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, floor: Floor, rate: int = RATE):
        super().__init__()
        self.floor = floor
        self.rate = rate
        self.step = rate * FRAME_MS // 1000
        self._start: float | None = None
        self._pts = 0
        self._silence = bytes(2 * self.step)  # a silent frame as 16-bit PCM
        # False while nobody receives the voice (the room says so): the floor is still played in
        # real time, so the show and the answers keep their pace, but in 200 ms steps, not 20 ms
        self.heard = True

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        delay = self._start + self._pts / self.rate - now
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.2:  # the loop stalled: restart the schedule rather than send a burst
            self._start = now - self._pts / self.rate
        played = self.step * (1 if self.heard else UNHEARD_FRAMES)
        samples = self.floor.read(played)
        frame = av.AudioFrame(format="s16", layout="mono", samples=self.step)
        silent = samples is self.floor.quiet or not self.heard  # unheard: the sender drops it unencoded
        frame.planes[0].update(self._silence if silent else to_pcm16(samples))
        frame.sample_rate = self.rate
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, self.rate)
        self._pts += played
        return frame
