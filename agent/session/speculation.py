"""A turn's final transcript begun early: at the viewer's first pause, while the end of the turn is
still being decided (issue 17).

The end-of-turn decision takes from a quarter of a second (the model hears a complete sentence) to
about a second (it does not, and the pause must last). Recognition of the audio said so far starts
as soon as the pause begins; if the turn ends in that pause its audio is exactly what was being
recognized, and the answer starts from that transcript instead of from a new recognition. If the
viewer goes on, the early work is cancelled (it stops at its next step) and nothing of it is used:
a turn is never answered twice, and never from audio it did not end with.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import numpy as np

from agent.engines import Cancel, Recognizer, Transcript
from agent.session.stages import StageWork


@dataclass
class Early:
    """Recognition begun on `audio`; `cancel` stops it, and belongs to the turn that takes it."""

    audio: np.ndarray
    cancel: Cancel
    task: asyncio.Task[Transcript]
    begun_at: float  # on the conversation's clock


class EarlyTranscripts:
    """At most one early recognition at a time, for one conversation."""

    def __init__(self, work: StageWork, recognizer: Recognizer):
        # the conversation's stage work and recognizer, not the conversation: no reference cycle
        self.work, self.recognizer = work, recognizer
        self._early: Early | None = None
        self.begun = self.used = self.dropped = 0  # counts, for the conversation's record

    def begin(self, audio: np.ndarray, at: float) -> None:
        """The viewer paused (at clock time `at`): recognize the turn as it stands."""
        self.drop()
        cancel = Cancel()
        task = asyncio.get_running_loop().create_task(self.recognize(audio, cancel))
        task.add_done_callback(_quiet)
        self._early = Early(audio, cancel, task, at)
        self.begun += 1

    async def recognize(self, audio: np.ndarray, cancel: Cancel) -> Transcript:
        """A turn's final transcript (made early, in a pause, or once the turn has ended)."""
        return await self.work.run("asr", cancel, self.recognizer.transcribe, audio)

    def drop(self) -> None:
        """The viewer went on (or the conversation ends): the early work is not the turn's."""
        if self._early is not None:
            self._early.cancel.set()
            self._early.task.cancel()
            self._early = None
            self.dropped += 1

    def take(self, audio: np.ndarray) -> Early | None:
        """The early recognition, if it was begun on exactly this audio (the turn ended in that pause);
        otherwise it is dropped and None says: recognize the turn afresh."""
        early = self._early
        if early is None:
            return None
        if len(early.audio) != len(audio) or not np.array_equal(early.audio, audio):
            self.drop()
            return None
        self._early = None
        self.used += 1
        return early


def _quiet(task: asyncio.Task[Transcript]) -> None:
    """An early recognition nobody awaits (it was dropped) must not log 'exception never retrieved'."""
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.exception()
