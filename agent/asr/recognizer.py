"""Whisper speech recognition for one viewer turn: language (zh or en), then the transcript.

The language is detected per turn among the two the host speaks, so the answer comes back in the
viewer's language. The catalog's product names are given to the decoder as hot words. What is
done to any recognizer's text afterwards (simplified characters, the catalog's own words) is
agent/asr/normalise.py's, which wraps this recognizer like any other.

A turn costs one Whisper encoder pass: the first 30 s window is encoded once, the language is read
from that encoder output, and faster-whisper's own decoding loop (`generate_segments`) starts from
it. `WhisperModel.transcribe` would encode the window twice, once to detect the language and once
to decode. Audio longer than 30 s is decoded the same way; later windows are encoded as usual.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
import time
from typing import Any

import numpy as np

from agent.asr.weights import resolve_whisper
from agent.audio import RATE
from agent.engines import Transcript, check

LANGUAGES = ("zh", "en")
# Decoding settings that differ from faster-whisper's transcribe() defaults (vad_filter is off there too).
# One greedy pass at temperature 0: the fallback retries at higher temperatures cost seconds per turn.
DECODING: dict[str, Any] = {"beam_size": 1, "condition_on_previous_text": False, "temperature": 0.0}


__all__ = ["SpeechRecognizer", "Transcript", "catalog_vocabulary"]


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

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        partial: bool = False,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        """Transcribe 16 kHz mono float32 audio; `language` skips detection.

        `partial=True` is for streaming drafts of a turn still being spoken: no hot words and no
        timestamp tokens, so the decoder has the fewest tokens to read and write. Once `cancel` is
        set, the work stops at its next step (features, encoder, language, each decoded window).
        """
        from faster_whisper.tokenizer import Tokenizer

        start = time.perf_counter()
        check(cancel)
        features = self.model.feature_extractor(audio)
        check(cancel)
        encoder_output = self._encode_first_window(features)
        check(cancel)
        if language:
            lang, probability = language, 1.0
        elif self.multilingual:
            lang, probability = _ours(self.model.model.detect_language(encoder_output)[0])
        else:
            lang, probability = "en", 1.0
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.multilingual, task="transcribe", language=lang)
        words = None if partial else self.vocabulary.get(lang)
        options = self._options(
            tokenizer,
            hotwords=", ".join(words) if words else None,
            without_timestamps=partial,
            # a spoken question never needs more; a runaway repetition loop stops here
            max_new_tokens=int(16 + 12 * len(audio) / RATE),
        )
        check(cancel)
        pieces = []
        for segment in self.model.generate_segments(features, tokenizer, options, False, encoder_output):
            pieces.append(segment.text)
            check(cancel)
        text = "".join(pieces).strip()
        return Transcript(text, lang, probability, len(audio) / RATE * 1000, (time.perf_counter() - start) * 1000)

    def _encode_first_window(self, features: np.ndarray) -> Any:
        """The encoder output that generate_segments would compute itself for its first window."""
        from faster_whisper.audio import pad_or_trim

        frames = self.model.feature_extractor.nb_max_frames
        content = min(features.shape[-1] - 1, frames)  # generate_segments ignores the last frame
        return self.model.encode(pad_or_trim(features[:, :content], frames))

    def _options(self, tokenizer: Any, *, hotwords: str | None, without_timestamps: bool, max_new_tokens: int) -> Any:
        """faster-whisper's TranscriptionOptions, built as its transcribe() builds them."""
        from faster_whisper import WhisperModel
        from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

        # transcribe()'s own defaults, so every setting not named here stays what it was
        defaults = {name: p.default for name, p in inspect.signature(WhisperModel.transcribe).parameters.items()}
        settings = {
            **defaults,
            **DECODING,
            "hotwords": hotwords,
            "without_timestamps": without_timestamps,
            "max_new_tokens": min(max_new_tokens, 200),
        }
        temperature = settings["temperature"]
        settings["temperatures"] = list(temperature) if isinstance(temperature, list | tuple) else [temperature]
        suppress = settings["suppress_tokens"]
        settings["suppress_tokens"] = get_suppressed_tokens(tokenizer, list(suppress)) if suppress else suppress
        fields = {f.name for f in dataclasses.fields(TranscriptionOptions)}
        return TranscriptionOptions(**{k: v for k, v in settings.items() if k in fields})


def _ours(scores: list[tuple[str, float]]) -> tuple[str, float]:
    """The likelier of zh and en among Whisper's language scores, and its share of the two."""
    named = [(token.strip("<|>"), p) for token, p in scores]
    ours = {lang: p for lang, p in named if lang in LANGUAGES}
    # Cantonese and other Chinese variants count as Chinese
    ours["zh"] = ours.get("zh", 0.0) + sum(p for lang, p in named if lang in ("yue",))
    best = max(LANGUAGES, key=lambda lang: ours.get(lang, 0.0))
    total = sum(ours.get(lang, 0.0) for lang in LANGUAGES) or 1.0
    return best, ours.get(best, 0.0) / total


def catalog_vocabulary(names: list[tuple[str | None, str | None]]) -> dict[str, list[str]]:
    """Hot words per language from (zh, en) product names.

    English only: with the sample catalog's 14 Chinese names as the prompt, Whisper base echoed the
    list instead of the question ("智能手环L1, 智能台灯L1, ..."), measured on synthesized questions;
    mangled Chinese names are left to the product resolver (model codes like S7 survive).
    """
    return {"en": [en for _, en in names if en]}
