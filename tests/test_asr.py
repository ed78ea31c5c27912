"""Speech recognition: audio input handling, and Whisper on real recorded speech."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from agent.asr.weights import AsrModelError, resolve_whisper
from agent.audio import AudioError, read_wav
from evals.asr import asterisk_sentences
from evals.wer import error_rate

ASTERISK = Path(__file__).parent.parent / ".cache" / "testdata" / "asterisk"


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def test_any_pcm_wav_becomes_16k_mono() -> None:
    tone = (np.sin(np.arange(48000) / 48000 * 2 * np.pi * 440) * 16000).astype(np.int16)
    stereo = np.stack([tone, tone], axis=1).reshape(-1)
    audio = read_wav(wav_bytes(stereo, 48000, channels=2))
    assert audio.dtype == np.float32 and len(audio) == 16000
    assert 0.45 < float(np.abs(audio).max()) < 0.55
    assert len(read_wav(wav_bytes(tone[:8000], 8000))) == 16000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a wav at all", "not a PCM WAV file"),
        (wav_bytes(np.zeros(0, dtype=np.int16), 16000), "the recording is empty"),
        (wav_bytes(np.zeros(16000 * 3, dtype=np.int16), 16000), "longer than the 2 s limit"),
        (wav_bytes(np.zeros(300, dtype=np.uint8), 16000, width=3), "24-bit samples are not supported"),
    ],
)
def test_unusable_audio_gets_one_clear_sentence(data: bytes, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        read_wav(data, max_seconds=2)


def test_model_sources_are_checked(tmp_path: Path) -> None:
    with pytest.raises(AsrModelError, match="packaged:base or packaged:tiny.en"):
        resolve_whisper("packaged:large")
    with pytest.raises(AsrModelError, match="no model.bin"):
        resolve_whisper(str(tmp_path))
    assert resolve_whisper("small") == "small"  # a model name is passed on to faster-whisper


def prompts(count: int) -> list[tuple[Path, str]]:
    """Full-sentence prompts with their transcripts, spread over the whole set."""
    return asterisk_sentences(ASTERISK)[::7][:count]


@pytest.mark.model
@pytest.mark.parametrize(("model", "count", "bound"), [("packaged:tiny.en", 12, 0.10), ("packaged:base", 8, 0.10)])
def test_whisper_on_real_speech(model: str, count: int, bound: float) -> None:
    from agent.asr.recognizer import SpeechRecognizer

    recognizer = SpeechRecognizer(model, threads=2)
    pairs, languages = [], set()
    for path, reference in prompts(count):
        transcript = recognizer.transcribe(read_wav(path))
        pairs.append((reference, transcript.text))
        languages.add(transcript.language)
    assert languages == {"en"}
    assert error_rate(pairs) <= bound, pairs


def test_error_rate_counts_words_and_chinese_characters() -> None:
    assert error_rate([("Please enter your password.", "please enter your password")]) == 0.0
    assert error_rate([("a b c d", "a x c")]) == 0.5
    assert error_rate([("手环防水吗", "手環防水嗎")]) == 0.0  # traditional characters count as the same
