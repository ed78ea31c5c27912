"""What every voice offers: one clause of text in, mono float32 samples out.

A `Voice` is blocking and thread-safe enough to be called from one worker thread at a time; the
`Speaker` (agent/tts/speaker.py) picks the voice by language, runs it off the event loop and brings
its output to the transport's rate and level.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class VoiceError(Exception):
    """A voice that cannot be loaded or cannot say something, in one sentence."""


class Voice(Protocol):
    language: str  # "en" | "zh"
    sample_rate: int  # native rate of `synthesize`'s output

    def synthesize(self, text: str) -> np.ndarray:
        """One clause as mono float32 samples in [-1, 1] at `sample_rate` (empty for nothing speakable)."""
        ...
