"""The agent's outgoing audio, played frame by frame at the transport's pace, and what was heard.

Synthesized clauses queue here; the transport pulls fixed-size frames on its own clock. Because
playback happens here, this is where the conversation learns what the viewer actually heard: a
clause counts once its last sample has gone out, and a clause cut by a barge-in counts up to the
share of it that was played.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Segment:
    answer_id: int
    text: str
    language: str
    pcm: np.ndarray
    played: int = 0


@dataclass(frozen=True)
class Heard:
    answer_id: int
    text: str
    complete: bool  # False: cut off by a barge-in


class Playout:
    def __init__(
        self,
        rate: int,
        on_segment: Callable[[Segment], None] | None = None,
        on_heard: Callable[[Heard], None] | None = None,
    ):
        self.rate = rate
        self.on_segment = on_segment  # a clause starts playing
        self.on_heard = on_heard
        self._queue: deque[Segment] = deque()
        self.paused = False

    @property
    def active(self) -> bool:
        """Agent audio is waiting to be played (paused or not)."""
        return bool(self._queue)

    def enqueue(self, answer_id: int, text: str, language: str, pcm: np.ndarray) -> None:
        self._queue.append(Segment(answer_id, text, language, pcm.astype(np.float32, copy=False)))

    def enqueue_first(self, answer_id: int, text: str, language: str, pcm: np.ndarray) -> None:
        """Play this before anything queued, even before the rest of a clause already begun."""
        self._queue.appendleft(Segment(answer_id, text, language, pcm.astype(np.float32, copy=False)))

    @property
    def front_id(self) -> int | None:
        """The answer id of what plays next (None: nothing queued)."""
        return self._queue[0].answer_id if self._queue else None

    def read(self, n: int) -> np.ndarray:
        """The next `n` samples to play: agent audio, or silence when there is none or it is paused."""
        out = np.zeros(n, dtype=np.float32)
        filled = 0
        while filled < n and self._queue and not self.paused:
            segment = self._queue[0]
            if segment.played == 0 and self.on_segment:
                self.on_segment(segment)
            take = min(n - filled, len(segment.pcm) - segment.played)
            out[filled : filled + take] = segment.pcm[segment.played : segment.played + take]
            segment.played += take
            filled += take
            if segment.played >= len(segment.pcm):
                self._queue.popleft()
                self._report(Heard(segment.answer_id, segment.text, True))
        return out

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def clear(self) -> list[Heard]:
        """Drop all unplayed audio; returns the part of a cut clause that was heard, if any."""
        cut: list[Heard] = []
        if self._queue and self._queue[0].played:
            segment = self._queue[0]
            text = heard_part(segment.text, segment.played / len(segment.pcm), segment.language)
            if text:
                cut.append(Heard(segment.answer_id, text, False))
        self._queue.clear()
        self.paused = False
        for heard in cut:
            self._report(heard)
        return cut

    def _report(self, heard: Heard) -> None:
        if self.on_heard:
            self.on_heard(heard)


def heard_part(text: str, share: float, language: str) -> str:
    """The beginning of a clause a listener heard, from the share of its audio that was played.

    Speech runs at a roughly even pace in characters (Chinese) or words (English), so the share of
    samples maps to a share of them; a word that was only started is not counted as heard.
    """
    if share >= 1.0:
        return text
    if language == "zh":
        return text[: math.floor(len(text) * share)].strip()
    words = text.split()
    return " ".join(words[: math.floor(len(words) * share)])
