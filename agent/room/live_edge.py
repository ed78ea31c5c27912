"""Forwarded audio never falls more than a second behind the speaker, for the people in the room.

The room forwards each published audio track to its subscribers through aiortc's buffered relay:
every frame is queued for each subscriber until that subscriber's connection encodes it. When a
subscriber's sending side is slower than real time for a while (a loaded machine), that queue
only grows, and everything the agent says afterwards reaches the listener later and later, with
no way back (seen: 30 s behind after two minutes). A live room prefers the present: once more than
`MAX_BEHIND_S` of audio waits for a subscriber, the oldest frames are skipped, so a listener loses
a moment of sound but hears the rest on time. The agent's copies of the viewers' microphones are
not bounded: a question clipped at its start is misheard (seen: "and speaker today" for "What's the
Boom speaker going for today?"), and the agent catches up on what queued by itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger("livehost.room")
MAX_BEHIND_S = 1.0
FRAME_S = 0.02  # aiortc's decoded Opus frames


class LiveEdge(MediaStreamTrack):
    """A buffered relay copy (`MediaRelay.subscribe(track, buffered=True)`) with a bounded backlog."""

    kind = "audio"

    def __init__(self, copy: MediaStreamTrack, route: str = "", max_behind_s: float = MAX_BEHIND_S) -> None:
        super().__init__()
        self.copy, self.route = copy, route  # route: whose audio to whom, for the log
        self.limit = max(1, round(max_behind_s / FRAME_S))
        self.skipped = 0  # frames dropped to catch up

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        backlog: asyncio.Queue[Any] | None = getattr(self.copy, "_queue", None)
        if backlog is not None and backlog.qsize() > self.limit:
            log.warning("audio %s fell %.1f s behind: skipping to the present", self.route, backlog.qsize() * FRAME_S)
            while backlog.qsize() > self.limit // 2:
                if backlog.get_nowait() is None:  # the source ended
                    self.stop()
                    raise MediaStreamError
                self.skipped += 1
        return await self.copy.recv()

    def stop(self) -> None:
        super().stop()
        self.copy.stop()
