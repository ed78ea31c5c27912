"""The engines a conversation runs its turns on, and how it calls them off the event loop.

`Stages` is what the builder (agent/app/build.py) hands every conversation of a host: the
recognizer, the answer engine, the synthesizer, a VAD per conversation and the end-of-turn model.
`StageWork` runs one blocking call of a turn on a worker thread with the turn's cancel, so a
cancelled turn's recognition and synthesis stop at their next check, and it keeps the record of
how long work went on after a cancel (what `livehost bench` reports as work after cancel).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from agent.engines import Answerer, Cancel, Recognizer, SpeechProbabilities, Synthesizer
from agent.turns.options import TurnOptions
from agent.workers import in_thread

T = TypeVar("T")


@dataclass
class Stages:
    """The models a conversation uses; shared by all conversations of one host."""

    recognizer: Recognizer
    engine: Answerer
    speaker: Synthesizer
    new_vad: Callable[[], SpeechProbabilities]  # each conversation has its own VAD state
    completion: Callable[[np.ndarray], float] | None = None  # the end-of-turn model
    turn_options: TurnOptions | None = None  # the host's defaults for its conversations
    on_turn: Callable[[dict[str, Any]], None] | None = None  # every finished turn (metrics, the turn log)
    # False only to measure what stopping saves: recognition and synthesis then ignore a cancelled turn
    stop_cancelled_work: bool = True


class StageWork:
    """A conversation's blocking stage calls, each told to stop once its turn is cancelled."""

    def __init__(self, stop_cancelled: bool = True):
        self.stop_cancelled = stop_cancelled
        # (stage, ms) of work that went on after its turn was cancelled: what stopping leaves
        self.after_cancel: list[tuple[str, float]] = []

    async def run(self, stage: str, cancel: Cancel, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, cancel=cancel, **kwargs)` on a worker thread (`cancel` not passed to "answer",
        whose engine is given it by the caller). The asyncio task awaiting this ends at once on a
        cancel; the thread runs on until the stage reaches its next check, and that time is recorded."""
        if self.stop_cancelled and stage != "answer":
            kwargs["cancel"] = cancel

        def call() -> T:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                if cancel.at is not None:
                    self.after_cancel.append((stage, (time.perf_counter() - max(cancel.at, started)) * 1000))

        return await in_thread(call)
