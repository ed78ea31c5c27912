"""Channel conditions for the evaluations: noise at an SNR, packet loss, a telephone line, clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals.channel import (
    CLEAN,
    Channel,
    ChannelError,
    Condition,
    load_noise,
    parse_condition,
    speech_level_dbfs,
)

RATE = 16000
FRAME = 320


def tone(hz: float, seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def speech_like(seconds: float) -> np.ndarray:
    """A speech-like test signal: a vibrato tone in syllable-rate bursts, with pauses."""
    t = np.arange(int(seconds * RATE)) / RATE
    syllables = np.clip(np.sin(2 * np.pi * 3.7 * t), 0.0, None) * (np.sin(2 * np.pi * 0.4 * t) > -0.3)
    return (0.2 * syllables * np.sin(2 * np.pi * 440 * t + 3 * np.sin(2 * np.pi * 5 * t))).astype(np.float32)


def stream(channel: Channel, audio: np.ndarray, frame: int = FRAME) -> np.ndarray:
    out = [channel.process(audio[i : i + frame]) for i in range(0, len(audio), frame)]
    return np.concatenate(out)


def level_db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(audio.astype(np.float64) ** 2) + 1e-20))  # 200 dB down: silence


def noise_or_skip(kind: str) -> np.ndarray:
    try:
        return load_noise(kind)
    except ChannelError as e:
        pytest.skip(str(e))


def test_the_clean_channel_passes_the_audio_unchanged() -> None:
    audio = speech_like(1.0)
    channel = Channel(CLEAN, speech_level_dbfs([audio]))
    assert CLEAN.clean and channel.delay_ms == 0.0
    np.testing.assert_array_equal(stream(channel, audio), audio)
    assert channel.lost_frames == 0 and channel.frames == len(audio) // FRAME


def test_the_speech_level_counts_only_active_frames() -> None:
    sine = tone(1000, 1.0, amplitude=0.1)
    level = speech_level_dbfs([sine, np.zeros(RATE, np.float32), sine[: RATE // 2]])
    assert level == pytest.approx(10 * np.log10(0.1**2 / 2), abs=0.05)
    with pytest.raises(ChannelError, match="no sound"):
        speech_level_dbfs([np.zeros(RATE, np.float32)])


@pytest.mark.parametrize(("kind", "snr"), [("noise", 10.0), ("noise", 0.0), ("babble", 5.0)])
def test_noise_is_added_at_the_asked_snr_against_the_speech_level(kind: str, snr: float) -> None:
    loop = noise_or_skip(kind)
    speech = speech_like(max(6.0, len(loop) / RATE))  # babble changes level over its loop: measure all of it
    level = speech_level_dbfs([speech])
    noise = stream(Channel(Condition("n", noise_snr_db=snr, noise=kind), level, seed=3), speech) - speech
    assert level - level_db(noise) == pytest.approx(snr, abs=0.5)


@pytest.mark.parametrize(("rate", "burst_ms"), [(0.05, 20.0), (0.1, 60.0), (0.3, 100.0)])
def test_losses_match_the_rate_and_burst_length_and_lost_frames_are_silence(rate: float, burst_ms: float) -> None:
    channel = Channel(Condition("l", loss_rate=rate, loss_burst_ms=burst_ms), -20.0, seed=7)
    frame = tone(1000, FRAME / RATE)
    lost = []
    for _ in range(20000):
        out = channel.process(frame)
        lost.append(not out.any())
        if out.any():
            np.testing.assert_array_equal(out, frame)
        else:
            assert out.dtype == np.float32 and len(out) == FRAME
    lost_frames = np.array(lost)
    edges = np.diff(np.concatenate([[0], lost_frames.astype(int), [0]]))
    bursts = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    assert channel.frames == 20000 and channel.lost_frames == lost_frames.sum()
    assert lost_frames.mean() == pytest.approx(rate, rel=0.1)
    assert bursts.mean() * 20 == pytest.approx(burst_ms, rel=0.1)


@pytest.mark.parametrize(("hz", "low", "high"), [(1000, -3.0, 3.0), (6000, -math.inf, -30.0), (100, -math.inf, -10.0)])
def test_the_telephone_line_keeps_the_speech_band_and_removes_what_is_outside(
    hz: float, low: float, high: float
) -> None:
    sine = tone(hz, 1.0)
    out = stream(Channel(Condition("t", telephone=True), -20.0), sine)
    settled = slice(RATE // 10, None)
    assert low < level_db(out[settled]) - level_db(sine[settled]) < high


@pytest.mark.parametrize("frame", [FRAME, 1, 7, 333, 1000])
def test_the_telephone_line_gives_back_every_frame_at_its_length_and_a_small_constant_delay(frame: int) -> None:
    channel = Channel(Condition("t", telephone=True), -20.0)
    noise = (0.1 * np.random.default_rng(1).standard_normal(RATE // 2)).astype(np.float32)
    lengths = [len(channel.process(noise[i : i + frame])) for i in range(0, len(noise), frame)]
    assert lengths == [len(noise[i : i + frame]) for i in range(0, len(noise), frame)]
    out = stream(Channel(Condition("t", telephone=True), -20.0), noise, frame)
    lag = int(np.argmax(np.correlate(out, noise[: len(noise) - 400], mode="valid")))
    assert 0 < channel.delay_ms < 20
    assert lag == round(channel.delay_ms * RATE / 1000)


def test_clipping_overdrives_a_loud_signal_and_never_exceeds_full_scale() -> None:
    sine = tone(440, 1.0, amplitude=0.5)
    out = stream(Channel(Condition("c", clip_gain_db=20.0), -20.0), sine)
    assert np.abs(out).max() == 1.0
    assert np.mean(np.abs(out) == 1.0) > 0.5
    quiet = stream(Channel(Condition("c", clip_gain_db=6.0), -20.0), tone(440, 1.0, amplitude=0.01))
    np.testing.assert_allclose(quiet, tone(440, 1.0, amplitude=0.01) * 10 ** (6 / 20), rtol=1e-5, atol=1e-7)
    on_the_phone = stream(Channel(Condition("c", clip_gain_db=30.0, telephone=True), -20.0), sine)
    assert np.abs(on_the_phone).max() <= 1.0


def test_the_same_seed_gives_the_same_audio_and_another_seed_other_losses() -> None:
    condition = Condition("mix", loss_rate=0.2, loss_burst_ms=40.0, telephone=True, clip_gain_db=6.0)
    speech = speech_like(4.0)
    first, again = (stream(Channel(condition, -20.0, seed=5), speech) for _ in range(2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, stream(Channel(condition, -20.0, seed=6), speech))


def test_a_noisy_channel_is_deterministic_too() -> None:
    noise_or_skip("noise")
    speech = speech_like(2.0)
    condition = Condition("n", noise_snr_db=5.0)
    first, again = (stream(Channel(condition, -20.0, seed=2), speech) for _ in range(2))
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ("clean", "clean"),
        ({"noise_snr_db": 10}, "noise-10db"),
        ({"noise_snr_db": 5, "noise": "babble", "telephone": True}, "babble-5db+telephone"),
        ({"loss_rate": 0.05}, "loss-5pct"),
        ({"loss_rate": 0.05, "loss_burst_ms": 60}, "loss-5pct-burst60ms"),
        ({"clip_gain_db": 12, "loss_rate": 0.1}, "clip+12db+loss-10pct"),
        ({"name": "phone", "telephone": True}, "phone"),
    ],
)
def test_conditions_from_yaml_get_a_name_from_their_settings(data: object, name: str) -> None:
    condition = parse_condition(data, "conditions[0]")
    assert condition.name == name
    assert condition.clean == (name == "clean")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"noise_snr": 10}, "noise_snr"),
        ({"telephone": "yes"}, "telephone"),
        ({"loss_rate": True}, "loss_rate"),
        ({"loss_rate": 0.7}, "loss_rate"),
        ({"loss_rate": 0.1, "loss_burst_ms": 5}, "loss_burst_ms"),
        ({"loss_burst_ms": 60}, "loss_burst_ms"),
        ({"noise_snr_db": float("nan")}, "noise_snr_db"),
        ({"noise": "babble"}, "noise"),
        ({"noise_snr_db": 10, "noise": "traffic"}, "noise"),
        ({"clip_gain_db": -3}, "clip_gain_db"),
        ({"name": ""}, "name"),
        ("noisy", "clean"),
    ],
)
def test_a_bad_condition_is_an_error_naming_where_and_the_key(data: object, named: str) -> None:
    with pytest.raises(ChannelError, match=rf"^conditions\[2\]: .*{named}"):
        parse_condition(data, "conditions[2]")


@pytest.mark.parametrize(("kind", "seconds"), [("noise", 1.3), ("babble", 19.0)])
def test_the_noise_recordings_are_real_audio_at_an_rms_of_one(kind: str, seconds: float) -> None:
    loop = noise_or_skip(kind)
    assert loop.dtype == np.float32 and not loop.flags.writeable
    assert len(loop) >= seconds * RATE
    assert np.sqrt(np.mean(loop.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-3)
    assert np.mean(np.abs(loop) < 1e-3) < 0.2  # mostly digital silence would be a broken file
