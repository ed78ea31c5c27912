"""The room's forwarded audio: a subscriber that falls behind skips to the present."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agent.room.live_edge import LiveEdge


class Backlog(MediaStreamTrack):
    """Stands in for aiortc's buffered relay copy: frames already queued for a subscriber."""

    kind = "audio"

    def __init__(self, frames: list[int | None]) -> None:
        super().__init__()
        self._queue: asyncio.Queue[int | None] = asyncio.Queue()
        for frame in frames:
            self._queue.put_nowait(frame)

    async def recv(self) -> int:
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        return frame


def test_a_subscriber_within_a_second_gets_every_frame() -> None:
    async def run() -> list[int]:
        edge = LiveEdge(Backlog(list(range(40))), "Lumi -> Ann", max_behind_s=1.0)
        return [await edge.recv() for _ in range(40)]

    assert asyncio.run(run()) == list(range(40))


def test_a_subscriber_more_than_a_second_behind_skips_to_half_a_second_behind() -> None:
    async def run() -> tuple[list[int], int]:
        edge = LiveEdge(Backlog(list(range(200))), "Lumi -> Ann", max_behind_s=1.0)  # 4 s of 20 ms frames
        frames = [await edge.recv() for _ in range(25)]
        return frames, edge.skipped

    frames, skipped = asyncio.run(run())
    assert frames == list(range(175, 200)) and skipped == 175


def test_the_end_of_the_source_is_not_skipped_over() -> None:
    async def run() -> None:
        edge = LiveEdge(Backlog([*range(100), None, *range(30)]), "Lumi -> Ann", max_behind_s=1.0)
        await edge.recv()

    with pytest.raises(MediaStreamError):
        asyncio.run(run())
