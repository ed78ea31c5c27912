"""The avatar as a WebRTC video track: frames on the track's own clock, drawn in a worker thread so that
drawing never delays the speech audio that shares the event loop, and few frames while nobody watches.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack

from agent.rtc.avatar import Avatar
from agent.workers import in_thread

CLOCK_RATE = 90000  # RTP video clock
TIME_BASE = fractions.Fraction(1, CLOCK_RATE)


class AvatarTrack(VideoStreamTrack):
    """The avatar as an outgoing video track at `fps`, the mouth following `level()` (called once a frame).

    Frames are paced on the track's own monotonic clock, pts in the 90 kHz RTP clock. A track that falls
    behind (a slow consumer, a busy CPU) skips the frames it missed rather than sending them in a burst.
    While nobody watches (`watched`, from the room's `watchers` event) it sends one frame a second, the
    same picture each time: rendering, encoding and the room's decoding of 15 unseen frames a second
    took most of a core on 2 cores and made the room's audio late (docs/PERFORMANCE.md, "The live
    room under load"); the agent then also stops encoding it (agent/rtc/audience.py).
    """

    kind = "video"

    def __init__(self, avatar: Avatar, level: Callable[[], float], fps: int = 15) -> None:
        super().__init__()
        if fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self.avatar = avatar
        self.level = level
        self.fps = fps
        self._t0: float | None = None
        self._index = -1
        self._watched = True  # until the room says otherwise (a room that never says gets every frame)
        self._woken = asyncio.Event()
        self._still: av.VideoFrame | None = None  # the picture repeated while nobody watches

    @property
    def watched(self) -> bool:
        return self._watched

    @watched.setter
    def watched(self, value: bool) -> None:
        self._watched = value
        if value:
            self._woken.set()  # a new watcher gets full rate now, not after the idle second

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._t0 is None:
            self._t0, self._index = now, 0
        else:
            # The next frame, or the latest one already due if the track is more than a frame behind;
            # unwatched, the next one on a once-a-second grid.
            step = 1 if self._watched else self.fps
            due = max(self._index + 1, math.floor((now - self._t0) * self.fps))
            self._index = -(-due // step) * step
            wait = self._t0 + self._index / self.fps - now
            if wait > 0:
                self._woken.clear()
                try:
                    await asyncio.wait_for(self._woken.wait(), wait)
                    self._index = max(due, math.floor((time.monotonic() - self._t0) * self.fps))
                except TimeoutError:
                    pass
        index = self._index
        if self._watched or self._still is None:
            frame = await in_thread(self._render, index / self.fps, self.level())
            self._still = None if self._watched else frame
        else:  # nobody watches (and the agent sends nothing): the last picture, not a new one
            frame = self._still
        frame.pts = index * CLOCK_RATE // self.fps
        frame.time_base = TIME_BASE
        return frame

    def _render(self, t: float, level: float) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self.avatar.frame(t, level), format="rgb24")
