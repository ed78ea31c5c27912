"""The TTS stage of the voice loop: one clause of answer text in, audio at the transport's rate out.

`Speaker` picks the voice for the answer's language, resamples its output to one rate, brings every
clause to one loudness (so the English and the Mandarin voice sound equally loud, and no clause
clips), and trims the silence the voices leave around a clause: leading silence only delays when the
viewer hears the answer, trailing silence becomes one short, regular pause between clauses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import numpy as np

from agent.audio import resample, voiced_span
from agent.engines import Voice, check
from agent.tts.memory import idle_trim
from agent.tts.voice import VoiceError

SILENT_DBFS = -60.0  # a clause whose speech is quieter than this is silence, not something to amplify


class Speaker:
    """Voices by language behind one blocking `synthesize` and one async `speak`."""

    def __init__(
        self,
        voices: Mapping[str, Voice],
        rate: int = 48000,
        *,
        level_dbfs: float = -20.0,
        peak_dbfs: float = -1.0,
        lead_ms: float = 10.0,
        pause_ms: float = 120.0,
    ):
        self.voices = dict(voices)
        self.rate = rate
        self.level_dbfs = level_dbfs
        self.peak_dbfs = peak_dbfs
        self.lead_ms = lead_ms
        self.pause_ms = pause_ms
        self.last_ms = 0.0  # how long the last `synthesize` took, voice to finished samples
        # a Voice runs on one thread at a time, and two clauses at once would only share the same cores
        self._lock = threading.Lock()

    @property
    def languages(self) -> list[str]:
        return sorted(self.voices)

    def synthesize(self, text: str, language: str, cancel: threading.Event | None = None) -> np.ndarray:
        """One clause as float32 mono at `rate`, at the common loudness; empty when there is nothing to say.

        A clause whose turn is cancelled (`cancel` set) while it waits for the voice is not spoken.
        """
        voice = self.voices.get(language)
        if voice is None:
            known = ", ".join(self.languages) or "none"
            raise VoiceError(f"there is no voice for language '{language}' (voices: {known})")
        check(cancel)
        with self._lock:
            check(cancel)
            start = time.perf_counter()
            audio = np.asarray(voice.synthesize(text, cancel), dtype=np.float32).reshape(-1)
            audio = self._finish(resample(audio, voice.sample_rate, self.rate))
            self.last_ms = (time.perf_counter() - start) * 1000
        idle_trim.busy()  # freed memory goes back to the system once the answer is out
        return audio

    def _finish(self, audio: np.ndarray) -> np.ndarray:
        level = speech_level(audio, self.rate)
        if level < 10 ** (SILENT_DBFS / 20):
            return np.zeros(0, dtype=np.float32)
        audio = limit(audio * (10 ** (self.level_dbfs / 20) / level), 10 ** (self.peak_dbfs / 20), self.rate)
        first, last = voiced_span(audio, self.rate)
        lead, pause = int(self.lead_ms * self.rate / 1000), int(self.pause_ms * self.rate / 1000)
        begin, end = max(0, first - lead), last + pause
        # every clause ends in the same pause, whatever silence its voice left
        return np.concatenate([audio[begin:end], np.zeros(max(0, end - len(audio)), dtype=np.float32)])


def speech_level(audio: np.ndarray, rate: int, window_ms: float = 20.0, gate_db: float = 30.0) -> float:
    """RMS of the speech in a clause: 20 ms windows within `gate_db` of the loudest, so pauses do not count."""
    hop = max(1, int(rate * window_ms / 1000))
    usable = len(audio) - len(audio) % hop
    if usable == 0:
        return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    power = np.mean(np.square(audio[:usable].reshape(-1, hop), dtype=np.float64), axis=1)
    loud = power[power >= power.max() * 10 ** (-gate_db / 10)]
    return float(np.sqrt(loud.mean()))


def limit(audio: np.ndarray, ceiling: float, rate: int, window_ms: float = 5.0) -> np.ndarray:
    """Peaks brought under `ceiling` by a smooth gain (a look-ahead limiter), never by clipping."""
    if len(audio) == 0 or float(np.abs(audio).max()) <= ceiling:
        return audio.astype(np.float32)
    half = max(1, int(rate * window_ms / 2000))
    gain = ceiling / np.maximum(_running_max(np.abs(audio), half), ceiling)
    # averaging over no more than the max window keeps every sample under the ceiling
    width = 2 * half + 1
    total = np.concatenate([[0.0], np.cumsum(np.pad(gain, half, mode="edge"), dtype=np.float64)])
    smooth = (total[width:] - total[:-width]) / width
    return (audio * smooth).astype(np.float32)


def _running_max(x: np.ndarray, half: int) -> np.ndarray:
    """max(x[i - half : i + half + 1]) for every i, in log2(window) vectorised steps."""
    width = 2 * half + 1
    m = np.pad(x, half)
    span = 1
    while span * 2 <= width:
        m = np.maximum(m[:-span], m[span:])
        span *= 2
    rest = width - span
    return np.maximum(m[: len(m) - rest], m[rest:])
