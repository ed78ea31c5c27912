"""Whisper speech recognition for one viewer turn: language (zh or en), then the transcript.

The language is detected per turn among the two the host speaks, so the answer comes back in the
viewer's language. The catalog's product names are given to the decoder as hot words, and Chinese
output is mapped to simplified characters (Whisper often writes traditional ones).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.asr.weights import resolve_whisper
from agent.audio import RATE
from knowledge.text import to_simplified

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # zh | en
    language_probability: float
    audio_ms: float
    elapsed_ms: float


class SpeechRecognizer:
    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "cpu",
        threads: int = 2,
        vocabulary: dict[str, list[str]] | None = None,
    ):
        from faster_whisper import WhisperModel

        compute_type = "float16" if device == "cuda" else "int8"
        self.model: Any = WhisperModel(
            resolve_whisper(model), device=device, compute_type=compute_type, cpu_threads=threads
        )
        self.multilingual = bool(self.model.model.is_multilingual)
        self.vocabulary = vocabulary or {}

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 audio; `language` skips detection."""
        start = time.perf_counter()
        lang, probability = (language, 1.0) if language else self.detect_language(audio)
        words = self.vocabulary.get(lang)
        segments, _ = self.model.transcribe(
            audio,
            language=lang if self.multilingual else None,
            beam_size=1,
            condition_on_previous_text=False,
            hotwords=", ".join(words) if words else None,
            vad_filter=False,
        )
        text = "".join(s.text for s in segments).strip()
        if lang == "zh":
            text = to_simplified(text)
        return Transcript(text, lang, probability, len(audio) / RATE * 1000, (time.perf_counter() - start) * 1000)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        if not self.multilingual:
            return "en", 1.0
        _, _, scores = self.model.detect_language(audio)
        ours = {lang: p for lang, p in scores if lang in LANGUAGES}
        # Cantonese and other Chinese variants count as Chinese
        ours["zh"] = ours.get("zh", 0.0) + sum(p for lang, p in scores if lang in ("yue",))
        best = max(LANGUAGES, key=lambda lang: ours.get(lang, 0.0))
        total = sum(ours.get(lang, 0.0) for lang in LANGUAGES) or 1.0
        return best, ours.get(best, 0.0) / total

    async def transcribe_async(self, audio: np.ndarray, language: str | None = None) -> Transcript:
        return await asyncio.to_thread(self.transcribe, audio, language)


def catalog_vocabulary(names: list[tuple[str | None, str | None]]) -> dict[str, list[str]]:
    """Hot words per language from (zh, en) product names."""
    return {"zh": [zh for zh, _ in names if zh], "en": [en for _, en in names if en]}
