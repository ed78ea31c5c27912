"""What happens to any recognizer's text before the answer engine reads it.

Chinese transcripts are brought to simplified characters (Whisper often writes traditional ones)
and the catalog's own Chinese words are put back where the recognizer wrote a homophone
(agent/asr/lexicon.py). A stage of its own, wrapped around whichever recognizer the host was built
with, so a different recognizer keeps both.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from agent.asr.lexicon import Lexicon
from agent.engines import Recognizer, Transcript
from knowledge.text import to_simplified


class Normalised:
    """A `Recognizer` whose Chinese text is simplified and written in the catalog's words."""

    def __init__(self, recognizer: Recognizer, lexicon: Lexicon | None = None):
        self.recognizer = recognizer
        self.lexicon = lexicon

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        partial: bool = False,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        heard = self.recognizer.transcribe(audio, language, partial=partial, cancel=cancel)
        return dataclasses.replace(heard, text=self.normalise(heard.text, heard.language))

    def normalise(self, text: str, language: str) -> str:
        if language != "zh":
            return text
        text = to_simplified(text)
        return self.lexicon.correct(text) if self.lexicon is not None else text
