"""Turn-taking detectors on real recordings: speech vs silence and noise, complete vs cut-off turns."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from agent.audio import RATE, read_wav
from agent.turns import completion
from agent.turns.completion import TurnModelError, model_input, resolve_smart_turn
from agent.turns.vad import SpeechDetector
from evals.asr import asterisk_sentences

TESTDATA = Path(__file__).parent.parent / ".cache" / "testdata"
CHUNK = 320  # 20 ms, as WebRTC delivers it
PAUSE = np.zeros(RATE // 5, dtype=np.float32)  # the 0.2 s of silence after which Pipecat asks smart-turn


def alsa_noise() -> Path:
    """Debian alsa-utils' Noise.wav (a real noise recording), unpacked like `make testdata` does."""
    installed = Path("/usr/share/sounds/alsa/Noise.wav")
    if installed.exists():
        return installed
    root = TESTDATA / "alsa"
    unpacked = root / "usr/share/sounds/alsa/Noise.wav"
    if not unpacked.exists():
        debs = root / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        try:
            if subprocess.run(["apt-get", "download", "alsa-utils"], cwd=debs, capture_output=True).returncode:
                subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
                subprocess.run(["apt-get", "download", "alsa-utils"], cwd=debs, capture_output=True)
            for deb in debs.glob("alsa-utils_*.deb"):
                subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            pass
    if not unpacked.exists():
        pytest.skip("Debian's alsa-utils package (for Noise.wav) could not be downloaded and unpacked")
    return unpacked


def sentences(step: int) -> list[np.ndarray]:
    return [read_wav(path) for path, _ in asterisk_sentences(TESTDATA / "asterisk")[::step]]


def feed_in_chunks(detector: SpeechDetector, audio: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    out: list[float] = []
    for i in range(0, len(audio), chunk):
        out += detector.feed(audio[i : i + chunk])
    return np.array(out)


@pytest.mark.model
def test_speech_is_heard_inside_sentences_and_not_in_the_silence_before_them() -> None:
    detector = SpeechDetector()
    assert detector.window_ms == 32
    lead = RATE  # one second of digital silence before each sentence
    for audio in sentences(20):
        detector.reset()
        probabilities = feed_in_chunks(detector, np.concatenate([np.zeros(lead, np.float32), audio]))
        silent = probabilities[: lead // 512]
        voiced = probabilities[lead // 512 + 3 : -3]
        assert silent.max() < 0.1  # measured 0.0: webrtcvad gates digital silence
        assert np.mean(voiced > 0.5) > 0.8, voiced.round(2)  # measured 0.90-1.00


@pytest.mark.model
def test_recorded_noise_is_not_speech() -> None:
    noise = read_wav(alsa_noise())
    # at 3x the recorded level webrtcvad calls every frame speech: Silero alone must reject it
    for gain in (1.0, 3.0):
        assert feed_in_chunks(SpeechDetector(), noise * gain).max() < 0.3  # measured 0.03 and 0.06


@pytest.mark.model
def test_probabilities_do_not_depend_on_chunking_gating_or_history() -> None:
    pause = np.zeros(RATE, dtype=np.float32)
    audio = np.concatenate([x for sentence in sentences(30) for x in (pause, sentence)])
    whole = SpeechDetector().feed(audio)
    assert len(whole) == len(audio) // 512
    assert feed_in_chunks(SpeechDetector(), audio).tolist() == whole
    assert feed_in_chunks(SpeechDetector(), audio, chunk=1000).tolist() == whole

    reused = SpeechDetector()
    reused.feed(audio[: len(audio) // 3 + 100])
    reused.reset()
    assert reused.feed(audio) == whole

    # skipping Silero in the pauses hardly changes its decisions (measured: 2-13 in 6,500 windows)
    ungated = np.array(SpeechDetector(gate=False).feed(audio)) > 0.5
    assert np.mean(ungated == (np.array(whole) > 0.5)) > 0.99
    assert np.mean(np.array(whole) == 0.0) > 0.1  # and the pauses were skipped


def cut_inside_speech(audio: np.ndarray, fraction: float) -> np.ndarray:
    """The audio up to `fraction` of its voiced span, moved into a run of clearly voiced windows."""
    voiced = np.array(SpeechDetector(gate=False).feed(audio)) > 0.9
    span = np.flatnonzero(voiced)
    k = int(span[0] + fraction * (span[-1] - span[0]))
    while k < span[-1] and not voiced[k - 1 : k + 2].all():
        k += 1
    return audio[: k * 512 + 256]  # the middle of a voiced window: inside a word


@pytest.mark.model
def test_complete_sentences_sound_more_finished_than_cut_ones() -> None:
    turn = completion.TurnCompletion()
    assert turn.session.get_session_options().intra_op_num_threads == 1
    complete, cut = [], []
    for audio in sentences(12):
        full = turn.probability(np.concatenate([audio, PAUSE]))
        for fraction in (0.5, 0.7):
            complete.append(full)
            cut.append(turn.probability(np.concatenate([cut_inside_speech(audio, fraction), PAUSE])))
    complete_, cut_ = np.array(complete), np.array(cut)
    # measured on these 13 sentences: complete 0.81-0.99 (mean 0.94), cut mean 0.36 (median 0.18),
    # complete higher in 25 of 26 pairs
    assert np.median(complete_) > completion.THRESHOLD
    assert complete_.mean() - cut_.mean() > 0.3
    assert np.mean(complete_ > cut_) > 0.75


def test_model_input_is_whisper_log_mel_of_the_last_8_seconds() -> None:
    from transformers import WhisperFeatureExtractor

    rng = np.random.default_rng(7)
    t = np.arange(3 * RATE) / RATE
    audio = (0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)
    features = model_input(audio)
    assert features.shape == (1, 80, 800) and features.dtype == np.float32

    # Pipecat pads at the start to 8 s, then runs transformers' extractor at chunk_length=8
    padded = np.pad(audio, (8 * RATE - len(audio), 0))
    reference = WhisperFeatureExtractor(chunk_length=8)(
        padded, sampling_rate=RATE, padding="max_length", max_length=8 * RATE, truncation=True, do_normalize=True
    ).input_features
    assert np.abs(features - reference).max() < 1e-3
    long = np.concatenate([rng.normal(size=10 * RATE).astype(np.float32), padded])
    assert np.array_equal(model_input(long), model_input(padded))


def fake_wheel(path: Path, model: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(completion.WHEEL_MEMBER, model)
    return path


def test_smart_turn_is_extracted_from_the_wheel_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = b"not really onnx"
    monkeypatch.setattr(completion, "MODEL_SHA256", hashlib.sha256(model).hexdigest())
    wheel = fake_wheel(tmp_path / "pipecat_ai-1.14.0-py3-none-any.whl", model)
    cache = tmp_path / "cache"
    path = resolve_smart_turn(str(wheel), cache_dir=cache)
    assert path == cache / "smart-turn-v3.2" / "smart-turn-v3.2-cpu.onnx" and path.read_bytes() == model
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == [path.name]

    def no_download(folder: Path) -> Path:
        raise AssertionError("the cached model must be used")

    monkeypatch.setattr(completion, "_download_wheel", no_download)
    assert resolve_smart_turn(cache_dir=cache) == path


def test_smart_turn_sources_are_checked(tmp_path: Path) -> None:
    with pytest.raises(TurnModelError, match="does not exist"):
        resolve_smart_turn(str(tmp_path / "missing.onnx"))
    with pytest.raises(TurnModelError, match="is not the smart-turn v3.2 model"):
        resolve_smart_turn(str(fake_wheel(tmp_path / "pipecat_ai-1.13.0-py3-none-any.whl", b"x")), cache_dir=tmp_path)
    other = tmp_path / "pipecat_ai-0.0.1-py3-none-any.whl"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("pipecat/__init__.py", "")
    with pytest.raises(TurnModelError, match="not a Pipecat wheel"):
        resolve_smart_turn(str(other), cache_dir=tmp_path)
    assert [p.name for p in (tmp_path / "smart-turn-v3.2").iterdir()] == [".smart-turn-v3.2-cpu.onnx.lock"]
