"""Audio at the edges of the agent: WAV files and raw PCM in and out, resampling, one clear error."""

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
    """Resample mono float audio with a proper anti-aliasing filter (soxr)."""
    if rate == target or len(samples) == 0:
        return samples.astype(np.float32)
    import soxr

    return np.asarray(soxr.resample(samples.astype(np.float32), rate, target, quality="HQ"), dtype=np.float32)


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as little-endian 16-bit PCM (clipped)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def from_pcm16(data: bytes) -> np.ndarray:
    """Little-endian 16-bit PCM as float32 in [-1, 1]; a dangling odd byte is an error."""
    if len(data) % 2:
        raise AudioError(f"a PCM16 frame must have an even number of bytes, got {len(data)}")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Float samples as a 16-bit PCM WAV file: mono, or one column per channel."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(to_pcm16(samples))


def voiced_span(
    samples: np.ndarray, rate: int, floor_db: float = -50.0, below_peak_db: float = 35.0
) -> tuple[int, int]:
    """First and one-past-last sample of the loud part of a recording ((0, 0) when all silent).

    10 ms windows count as voiced when their level is above `floor_db` (dBFS) and within
    `below_peak_db` of the loudest window: the known stimulus edges the benchmarks measure from.
    """
    hop = max(1, rate // 100)
    usable = len(samples) - len(samples) % hop
    if usable == 0:
        return 0, 0
    rms = np.sqrt(np.mean(np.square(samples[:usable].reshape(-1, hop), dtype=np.float64), axis=1))
    level = 20 * np.log10(np.maximum(rms, 1e-9))
    voiced = np.flatnonzero(level > max(floor_db, level.max() - below_peak_db))
    if len(voiced) == 0:
        return 0, 0
    first, last = int(voiced[0]) * hop, int(voiced[-1] + 1) * hop
    # refine to the sample inside the edge windows
    threshold = 10 ** (max(floor_db, level.max() - below_peak_db) / 20)
    loud = np.flatnonzero(np.abs(samples[first : first + hop]) > threshold)
    first += int(loud[0]) if len(loud) else 0
    tail = np.flatnonzero(np.abs(samples[last - hop : last]) > threshold)
    last = last - hop + int(tail[-1]) + 1 if len(tail) else last
    return first, last
