"""Audio in: WAV files and PCM to 16 kHz mono float32, or one clear error."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

RATE = 16000
MAX_SECONDS = 120.0


class AudioError(Exception):
    """Audio that cannot be used, in one sentence naming the problem."""


def read_wav(source: Path | bytes, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """A WAV file (any rate, mono or stereo, 8/16/32-bit PCM) as 16 kHz mono float32 in [-1, 1]."""
    name = str(source) if isinstance(source, Path) else "the audio"
    try:
        with wave.open(str(source) if isinstance(source, Path) else io.BytesIO(source), "rb") as handle:
            rate, channels, width = handle.getframerate(), handle.getnchannels(), handle.getsampwidth()
            frames = handle.getnframes()
            if frames == 0:
                raise AudioError(f"{name}: the recording is empty")
            if frames / rate > max_seconds:
                raise AudioError(f"{name}: {frames / rate:.0f} s is longer than the {max_seconds:.0f} s limit")
            raw = handle.readframes(frames)
    except FileNotFoundError:
        raise AudioError(f"{name}: file not found") from None
    except (wave.Error, EOFError) as e:
        detail = f" ({e})" if str(e) else ""
        raise AudioError(f"{name}: not a PCM WAV file{detail}") from None
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
    if dtype is None:
        raise AudioError(f"{name}: {8 * width}-bit samples are not supported (use 8, 16 or 32-bit PCM)")
    samples = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if width == 1:
        samples = samples - 128.0
    samples /= float(2 ** (8 * width - 1))
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return resample(samples, rate, RATE)


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Resample mono float audio; integer down-sampling is low-passed by averaging first."""
    if rate == target or len(samples) == 0:
        return samples.astype(np.float32)
    if rate > target and rate % target == 0:
        factor = rate // target
        usable = len(samples) - len(samples) % factor
        return samples[:usable].reshape(-1, factor).mean(axis=1).astype(np.float32)
    duration = len(samples) / rate
    positions = np.arange(int(duration * target)) / target
    return np.interp(positions, np.arange(len(samples)) / rate, samples).astype(np.float32)
