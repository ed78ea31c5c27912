"""Channel conditions: what happens to a simulated viewer's microphone audio before the agent hears it.

A `Condition` names one channel (background noise at an SNR, a mic overdriven into clipping, a narrowband
telephone line, lost network packets, or a mix of them); a `Channel` applies it to the viewer's audio as a
stream of 20 ms frames of 16 kHz mono float32, keeping its state between frames and drawing every random
choice from its seed, so the same seed gives the same audio.

Order, as the sound travels: the room's noise is added, the microphone clips, the telephone line band-limits
and codes the audio, and the network drops packets. Noise is real recorded sound, never synthesized: Debian
alsa-utils' Noise.wav, or a babble of five talkers made from the Debian Asterisk English prompts, both
unpacked by `make testdata`. The telephone line delays the audio by `Channel.delay_ms` (7 ms at 16 kHz);
timing measurements taken through it include that delay.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from agent.audio import RATE, read_wav, resample
from evals.asr import ASTERISK, asterisk_sentences

FRAME_MS = 20  # one network packet
NOISE_KINDS = ("noise", "babble")
ALSA = ASTERISK.parent / "alsa"
NOISE_WAV = Path("usr/share/sounds/alsa/Noise.wav")
ASTERISK_TRANSCRIPTS = Path("usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
LOOP_FADE_MS = 50
BABBLE_SECONDS = 20.0
# One recorded voice at five playback speeds: the pitch shifts with the speed, so it sounds like five talkers.
BABBLE_SPEEDS = (0.92, 0.96, 1.0, 1.04, 1.08)
BABBLE_PAUSE_SECONDS = 0.3
LINE_RATE = 8000
LINE_BAND_HZ = (300.0, 3400.0)
STREAM_LAG_MS = 1.0  # covers soxr's QQ streams, measured 6 samples behind at 16 kHz and 17 at 48 kHz
FIR_STOPBAND_DB = 60.0


class ChannelError(ValueError):
    """A channel condition or its audio that cannot be used; the message names the field and the problem."""


def _check_range(key: str, value: float | None, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:  # NaN fails too
        raise ChannelError(f"{key}: {value} is out of range {low:g}..{high:g}")


@dataclass(frozen=True)
class Condition:
    """One channel condition; every field left at its default leaves the audio as it is."""

    name: str
    noise_snr_db: float | None = None  # background noise this many dB below the speech's active level
    noise: str = "noise"  # one of NOISE_KINDS
    loss_rate: float = 0.0  # fraction of 20 ms packets lost, 0..0.5
    loss_burst_ms: float = FRAME_MS  # mean length of a loss burst; 20 ms: single lost packets, never two
    telephone: bool = False  # 300-3400 Hz, 8 kHz, G.711 mu-law
    clip_gain_db: float | None = None  # gain before the microphone clips at full scale

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ChannelError("name: must be a non-empty string")
        if self.noise not in NOISE_KINDS:
            raise ChannelError(f"noise: {self.noise!r} is not one of {', '.join(NOISE_KINDS)}")
        if self.noise != "noise" and self.noise_snr_db is None:
            raise ChannelError("noise: needs noise_snr_db, the level to add it at")
        _check_range("noise_snr_db", self.noise_snr_db, -20.0, 60.0)
        _check_range("loss_rate", self.loss_rate, 0.0, 0.5)
        _check_range("loss_burst_ms", self.loss_burst_ms, FRAME_MS, 2000.0)
        if self.loss_burst_ms != FRAME_MS and not self.loss_rate:
            raise ChannelError("loss_burst_ms: needs loss_rate above 0")
        if self.clip_gain_db is not None and not 0.0 < self.clip_gain_db <= 40.0:
            raise ChannelError(f"clip_gain_db: {self.clip_gain_db} is out of range (above 0, at most 40)")

    @property
    def clean(self) -> bool:
        return self.noise_snr_db is None and not self.loss_rate and not self.telephone and self.clip_gain_db is None


CLEAN = Condition("clean")
FIELD_TYPES: dict[str, type] = {
    "name": str,
    "noise_snr_db": float,
    "noise": str,
    "loss_rate": float,
    "loss_burst_ms": float,
    "telephone": bool,
    "clip_gain_db": float,
}


def parse_condition(data: object, where: str) -> Condition:
    """A condition from YAML: the string "clean", or a mapping of Condition's fields.

    The name defaults to one made from the settings, in processing order and joined with "+", e.g.
    "noise-10db", "babble-5db+telephone", "clip+12db", "loss-5pct-burst60ms".
    """
    if data == "clean":
        return CLEAN
    if not isinstance(data, dict):
        raise ChannelError(f"{where}: a condition is the string 'clean' or a mapping, not {data!r}")
    settings: dict[str, Any] = {}
    for key, value in data.items():
        kind = FIELD_TYPES.get(key)
        if kind is None:
            raise ChannelError(f"{where}: unknown key {key!r} (known: {', '.join(FIELD_TYPES)})")
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind):
            expected = {str: "a string", bool: "true or false", float: "a number"}[kind]
            raise ChannelError(f"{where}: {key}: {value!r} should be {expected}")
        settings[key] = value
    try:
        condition = Condition(**{"name": "unnamed", **settings})
    except ChannelError as e:
        raise ChannelError(f"{where}: {e}") from None
    return condition if "name" in settings else replace(condition, name=_default_name(condition))


def _default_name(condition: Condition) -> str:
    parts = []
    if condition.noise_snr_db is not None:
        parts.append(f"{condition.noise}-{condition.noise_snr_db:g}db")
    if condition.clip_gain_db is not None:
        parts.append(f"clip+{condition.clip_gain_db:g}db")
    if condition.telephone:
        parts.append("telephone")
    if condition.loss_rate:
        burst = f"-burst{condition.loss_burst_ms:g}ms" if condition.loss_burst_ms != FRAME_MS else ""
        parts.append(f"loss-{condition.loss_rate * 100:g}pct{burst}")
    return "+".join(parts) or "clean"


def speech_level_dbfs(clips: list[np.ndarray], rate: int = RATE) -> float:
    """The active speech level of these clips in dBFS: 10 log10 of a mean square, so a full-scale sine is -3 dBFS.

    A simple stand-in for ITU-T P.56: the mean power of the 10 ms frames, over all clips, that lie within
    30 dB of the loudest one; pauses and silence do not count.
    """
    size = rate // 100
    powers = [
        np.mean(clip[: len(clip) // size * size].astype(np.float64).reshape(-1, size) ** 2, axis=1) for clip in clips
    ]
    frames = np.concatenate(powers) if powers else np.zeros(0)
    if not frames.size or frames.max() <= 0.0:
        raise ChannelError("speech clips: no sound to measure a level from")
    active = frames[frames >= frames.max() * 10 ** (-30 / 10)]
    return float(10 * np.log10(active.mean()))


@functools.cache
def load_noise(kind: str, rate: int = RATE) -> np.ndarray:
    """A noise recording as a seamless loop: mono float32 at `rate`, scaled to an RMS of 1.0 (0 dB full scale).

    "noise" is alsa-utils' Noise.wav (1.4 s, recorded at 48 kHz); "babble" is 20 s of five talkers at once,
    each reading a different run of Asterisk prompt sentences (8 kHz recordings, so nothing above 4 kHz), at
    playback speeds from 0.92 to 1.08. The last 50 ms are cross-faded into the start, so the loop has no click
    where it wraps. Peaks go above 1.0: the caller scales it down to the level it needs. The array is shared
    between callers, hence read-only.
    """
    if kind == "noise":
        recording = resample(read_wav(_testdata(NOISE_WAV, ALSA, "alsa-utils") / NOISE_WAV), RATE, rate)
    elif kind == "babble":
        recording = _babble(_testdata(ASTERISK_TRANSCRIPTS, ASTERISK, "asterisk-core-sounds-en"), rate)
    else:
        raise ChannelError(f"noise: {kind!r} is not one of {', '.join(NOISE_KINDS)}")
    fade = rate * LOOP_FADE_MS // 1000
    angle = np.linspace(0.0, np.pi / 2, fade)
    loop = recording[: len(recording) - fade].astype(np.float64)
    loop[:fade] = loop[:fade] * np.sin(angle) + recording[-fade:] * np.cos(angle)  # equal power: uncorrelated
    loop /= np.sqrt(np.mean(loop**2))
    out = loop.astype(np.float32)
    out.flags.writeable = False
    return out


def _testdata(path: Path, unpacked: Path, package: str) -> Path:
    """The root under which `path` exists: installed on this machine, or unpacked by `make testdata`."""
    for root in (Path("/"), unpacked):
        if (root / path).exists():
            return root
    raise ChannelError(f"noise: /{path} is missing (Debian {package}): `make testdata` installs it under {unpacked}")


def _babble(root: Path, rate: int) -> np.ndarray:
    sentences = iter(asterisk_sentences(root))
    pause = np.zeros(int(BABBLE_PAUSE_SECONDS * RATE), np.float32)
    mix = np.zeros(int(BABBLE_SECONDS * rate), np.float32)
    for speed in BABBLE_SPEEDS:
        parts: list[np.ndarray] = []
        while sum(map(len, parts)) < (BABBLE_SECONDS + 1) * speed * RATE:
            sentence = next(sentences, None)
            if sentence is None:
                raise ChannelError(
                    f"noise: too few Asterisk prompt sentences under {root} for {BABBLE_SECONDS:g} s of babble "
                    "(Debian asterisk-core-sounds-en-wav): `make testdata` installs them"
                )
            parts += [read_wav(sentence[0]), pause]
        mix += soxr.resample(np.concatenate(parts), RATE * speed, rate)[: len(mix)]
    return mix


class Channel:
    """One condition applied to a stream of frames, with its state: the noise's place in its loop, the telephone
    line's filters and the loss model's state. Each `process` call is one packet for the loss model.

    The noise runs on through the whole stream, between the viewer's questions too: it is the room's.

    A lost packet becomes 20 ms of silence (zeros), as a receiver without packet-loss concealment plays it.
    Losses follow a Gilbert-Elliott model: in its Bad state every packet is lost, in its Good state none, and
    the two switching probabilities give the asked loss rate and mean burst length; 20 ms bursts are single
    lost packets, close to independent losses at low rates.
    """

    def __init__(self, condition: Condition, speech_level_dbfs: float, rate: int = RATE, seed: int = 0) -> None:
        self.condition = condition
        self.frames = 0
        self.lost_frames = 0
        self._rng = np.random.default_rng(seed)
        self._noise: np.ndarray | None = None
        self._noise_at = 0
        if condition.noise_snr_db is not None:
            if not math.isfinite(speech_level_dbfs):
                raise ChannelError(f"speech_level_dbfs: {speech_level_dbfs} is not a level to set the noise by")
            noise = load_noise(condition.noise, rate)
            self._noise = noise * np.float32(10 ** ((speech_level_dbfs - condition.noise_snr_db) / 20))
            self._noise_at = int(self._rng.integers(len(noise)))
        self._gain = np.float32(10 ** ((condition.clip_gain_db or 0.0) / 20))
        self._line = _TelephoneLine(rate) if condition.telephone else None
        self._rate = rate
        burst_frames = condition.loss_burst_ms / FRAME_MS
        self._recover = 1 / burst_frames  # p(Bad -> Good)
        self._fail = condition.loss_rate / (1 - condition.loss_rate) / burst_frames  # p(Good -> Bad)
        self._bad = bool(self._rng.random() < condition.loss_rate)  # the stationary start

    @property
    def delay_ms(self) -> float:
        """How much later the output carries the input (the telephone line's filters), in ms; 0 without it."""
        return self._line.delay_samples * 1000 / self._rate if self._line else 0.0

    def process(self, frame: np.ndarray) -> np.ndarray:
        """One frame (any length, normally 320 samples) in, the same number of samples out; zeros if it is lost."""
        self.frames += 1
        audio = np.asarray(frame, dtype=np.float32)
        if self._noise is not None:
            audio = audio + self._noise.take(np.arange(self._noise_at, self._noise_at + len(audio)), mode="wrap")
            self._noise_at = (self._noise_at + len(audio)) % len(self._noise)
        audio = np.clip(audio * self._gain, -1.0, 1.0)  # the microphone's converter saturates at full scale
        if self._line:
            audio = self._line(audio)
        lost = self._bad
        self._bad = bool(self._rng.random() < (1 - self._recover if lost else self._fail))
        if lost:
            self.lost_frames += 1
            return np.zeros_like(audio)
        return audio


class _TelephoneLine:
    """A narrowband phone call: band-limited to 300-3400 Hz, carried at 8 kHz in G.711 mu-law, and back.

    The upper band edge is a linear-phase FIR low-pass (flat to 3400 Hz, 60 dB down from 4000 Hz), applied
    before the line against aliases and again after it against images; the lower edge is a second-order
    Butterworth high-pass at 300 Hz. The resamplers are soxr's cubic "QQ" streams, which hold back only a few
    samples (its better qualities filter in blocks and hold back 120-230 ms); their interpolation on the way up
    rolls off the top of the band: -2 dB at 3 kHz, -3.5 dB at 3.4 kHz. The output lags the input by a constant
    `delay_samples`: the two FIRs' delays plus 1 ms of buffer for the resamplers, 7 ms at 16 kHz.
    """

    def __init__(self, rate: int) -> None:
        if rate < LINE_RATE:
            raise ChannelError(f"rate: {rate} Hz is below the telephone line's {LINE_RATE} Hz")
        taps = _lowpass(LINE_BAND_HZ[1], LINE_RATE / 2, rate)
        self._anti_alias, self._anti_image = _Fir(taps), _Fir(taps)
        self._down = soxr.ResampleStream(rate, LINE_RATE, 1, dtype="float32", quality="QQ")
        self._up = soxr.ResampleStream(LINE_RATE, rate, 1, dtype="float32", quality="QQ")
        self._high_pass = _HighPass(LINE_BAND_HZ[0], LINE_RATE)
        buffered = math.ceil(rate * STREAM_LAG_MS / 1000)
        self._pending = np.zeros(buffered, np.float32)
        self.delay_samples = buffered + len(taps) - 1

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        line = _g711_mulaw(self._high_pass(self._down.resample_chunk(self._anti_alias(audio))))
        pending = np.concatenate([self._pending, self._anti_image(self._up.resample_chunk(line))])
        if len(pending) < len(audio):
            raise RuntimeError(f"the telephone line's resamplers lag more than {STREAM_LAG_MS} ms")
        self._pending = pending[len(audio) :]
        return np.clip(pending[: len(audio)], -1.0, 1.0)


def _lowpass(passband_hz: float, stopband_hz: float, rate: int) -> np.ndarray:
    """Kaiser-windowed sinc taps (odd count, linear phase) for a low-pass between these edges."""
    beta = 0.1102 * (FIR_STOPBAND_DB - 8.7)
    count = math.ceil((FIR_STOPBAND_DB - 8) / (2.285 * 2 * np.pi * (stopband_hz - passband_hz) / rate)) | 1
    cutoff = (passband_hz + stopband_hz) / 2 / rate
    taps = 2 * cutoff * np.sinc(2 * cutoff * (np.arange(count) - count // 2)) * np.kaiser(count, beta)
    return taps / taps.sum()


class _Fir:
    """A streaming FIR filter: it keeps the last len(taps) - 1 input samples between calls."""

    def __init__(self, taps: np.ndarray) -> None:
        self._taps = taps
        self._history = np.zeros(len(taps) - 1, np.float32)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        if not len(audio):  # np.convolve's "valid" would answer a history shorter than the taps with samples
            return audio
        padded = np.concatenate([self._history, audio])
        self._history = padded[len(audio) :]
        return np.convolve(padded, self._taps, mode="valid").astype(np.float32)


class _HighPass:
    """A second-order Butterworth high-pass (bilinear transform), streaming, in transposed direct form II."""

    def __init__(self, cutoff_hz: float, rate: int) -> None:
        k = math.tan(math.pi * cutoff_hz / rate)
        norm = 1 / (1 + math.sqrt(2) * k + k * k)
        self._b = (norm, -2 * norm, norm)
        self._a = (2 * (k * k - 1) * norm, (1 - math.sqrt(2) * k + k * k) * norm)
        self._state = (0.0, 0.0)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        (b0, b1, b2), (a1, a2) = self._b, self._a
        z1, z2 = self._state
        out = np.empty(len(audio), np.float32)
        for i, x in enumerate(audio.tolist()):
            y = b0 * x + z1
            z1, z2 = b1 * x - a1 * y + z2, b2 * x - a2 * y
            out[i] = y
        self._state = (z1, z2)
        return out


def _g711_mulaw(audio: np.ndarray) -> np.ndarray:
    """Encode to 8-bit G.711 mu-law (sign, 3-bit segment, 4-bit step) and decode again, on 16-bit samples.

    Negative samples take their one's complement as magnitude, as ITU-T G.191's reference coder does.
    """
    pcm = np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int32)
    biased = np.minimum(np.where(pcm < 0, ~pcm, pcm), 32635) + 132
    segment = np.floor(np.log2(biased)).astype(np.int32) - 7
    step = (biased >> (segment + 3)) & 0x0F
    magnitude = (((step << 3) + 132) << segment) - 132
    return (np.where(pcm < 0, -magnitude, magnitude) / 32768.0).astype(np.float32)
