"""Text to speech: the Speaker's rate, loudness and silence handling with a fake voice, and the real
English voice heard back through Whisper."""

from __future__ import annotations

import concurrent.futures
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from agent.app import build
from agent.asr.recognizer import SpeechRecognizer
from agent.audio import resample, voiced_span
from agent.engines import Cancel, Cancelled
from agent.tts.english import normalize
from agent.tts.speaker import Speaker, speech_level
from agent.tts.voice import VoiceError
from knowledge.text import compact

CEILING = 10 ** (-1 / 20)


class FakeVoice:
    """A vowel-like buzz between stretches of silence, at a chosen rate and level."""

    def __init__(
        self,
        language: str = "en",
        sample_rate: int = 22050,
        amplitude: float = 0.3,
        lead_s: float = 0.3,
        speech_s: float = 1.0,
        tail_s: float = 0.5,
        spikes: bool = False,
    ):
        self.language, self.sample_rate = language, sample_rate
        self.amplitude, self.lead_s, self.speech_s, self.tail_s, self.spikes = (
            amplitude,
            lead_s,
            speech_s,
            tail_s,
            spikes,
        )

    def synthesize(self, text: str, cancel: threading.Event | None = None) -> np.ndarray:
        rate = self.sample_rate
        t = np.arange(int(self.speech_s * rate)) / rate
        buzz = np.sin(2 * np.pi * 140 * t) + 0.5 * np.sin(2 * np.pi * 420 * t) + 0.3 * np.sin(2 * np.pi * 980 * t)
        speech = buzz * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))  # syllable rhythm
        speech *= self.amplitude / max(float(np.abs(speech).max(initial=0.0)), 1e-9)
        if self.spikes:  # plosive-like peaks far above the speech around them
            speech[:: rate // 10] = 1.0
        lead, tail = np.zeros(int(self.lead_s * rate)), np.zeros(int(self.tail_s * rate))
        return np.concatenate([lead, speech, tail]).astype(np.float32)


def db(x: float) -> float:
    return 20 * float(np.log10(x))


def test_rate_conversion_keeps_the_duration() -> None:
    speaker = Speaker({"en": FakeVoice(sample_rate=22050), "zh": FakeVoice("zh", sample_rate=24000)}, rate=48000)
    for language in ("en", "zh"):
        audio = speaker.synthesize("The SmartBand X2 costs $199.", language)
        assert audio.dtype == np.float32
        first, last = voiced_span(audio, 48000)
        assert abs((last - first) / 48000 - 1.0) < 0.01


def test_quiet_and_loud_clauses_come_out_equally_loud_without_clipping() -> None:
    speaker = Speaker(
        {"en": FakeVoice(amplitude=0.02), "zh": FakeVoice("zh", sample_rate=24000, amplitude=0.1, spikes=True)}
    )
    quiet, loud = speaker.synthesize("quiet", "en"), speaker.synthesize("loud", "zh")
    assert abs(db(speech_level(quiet, 48000)) - db(speech_level(loud, 48000))) < 1.0
    assert abs(db(speech_level(quiet, 48000)) - speaker.level_dbfs) < 1.0
    assert float(np.abs(loud).max()) <= CEILING + 1e-6  # the spikes were limited, not clipped


def test_leading_silence_is_trimmed_and_the_pause_after_is_short() -> None:
    speaker = Speaker({"en": FakeVoice(lead_s=0.4, tail_s=0.8)}, pause_ms=120)
    audio = speaker.synthesize("Yes.", "en")
    first, last = voiced_span(audio, 48000)
    assert first <= 0.012 * 48000  # about 10 ms kept before the first sound
    assert abs((len(audio) - last) / 48000 - 0.120) < 0.002
    short = Speaker({"en": FakeVoice(tail_s=0.0)}, pause_ms=50).synthesize("Yes.", "en")
    assert abs((len(short) - voiced_span(short, 48000)[1]) / 48000 - 0.050) < 0.002  # padded up to the pause


def test_unknown_language_is_one_clear_error() -> None:
    speaker = Speaker({"en": FakeVoice()})
    with pytest.raises(VoiceError, match="no voice for language 'fr'"):
        speaker.synthesize("Bonjour", "fr")


def test_silence_and_empty_clauses_give_no_audio() -> None:
    assert len(Speaker({"en": FakeVoice(amplitude=0.0)}).synthesize("...", "en")) == 0
    assert len(Speaker({"en": FakeVoice(lead_s=0, speech_s=0, tail_s=0)}).synthesize("", "en")) == 0


def test_a_clause_of_a_cancelled_turn_is_not_spoken_even_when_it_was_waiting_for_the_voice() -> None:
    speaker = Speaker({"en": FakeVoice()})
    cancel = Cancel()
    assert len(speaker.synthesize("Yes.", "en", cancel)) > 0.9 * 48000 and speaker.last_ms > 0
    cancel.set()
    with pytest.raises(Cancelled):
        speaker.synthesize("Yes.", "en", cancel)
    waiting, cancel = threading.Event(), Cancel()
    with speaker._lock:  # another conversation's clause is being spoken

        def wait() -> None:
            waiting.set()
            speaker.synthesize("Yes.", "en", cancel)

        worker = concurrent.futures.ThreadPoolExecutor(1).submit(wait)
        waiting.wait(5)
        cancel.set()  # the viewer talked over this clause's answer meanwhile
    with pytest.raises(Cancelled):
        worker.result(timeout=5)


def test_missing_or_broken_english_model_is_one_clear_error(tmp_path: Path) -> None:
    from agent.tts.english import EnglishVoice, packaged_voice

    with pytest.raises(VoiceError, match="does not exist"):
        EnglishVoice(str(tmp_path / "en_US-nobody-medium.onnx"))
    broken = tmp_path / "en_US-broken-medium.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(VoiceError, match="config .* is missing"):
        EnglishVoice(str(broken))
    shutil.copy(f"{packaged_voice()}.json", f"{broken}.json")
    with pytest.raises(VoiceError, match="cannot be loaded") as caught:
        EnglishVoice(str(broken))
    assert "\n" not in str(caught.value)


def test_english_text_is_normalised_where_espeak_misreads_it() -> None:
    from agent.tts.english import normalize

    assert normalize("Only $199, or ¥1,299.") == "Only 199 dollars, or 1,299 yuan."
    assert normalize("10,000 mAh and 22.5W, 1 W") == "10,000 milliamp hours and 22.5 watts, 1 watt"
    assert normalize("IP68, 45 dB ANC") == "I P 6 8, 45 decibels A N C"
    assert (
        normalize("SmartWatch Pro 4G, 2.4 GHz Wi-Fi, Bluetooth 5.3")
        == "SmartWatch Pro 4G, 2.4 GHz Wi-Fi, Bluetooth 5.3"
    )


@pytest.fixture(scope="module")
def english() -> Speaker:
    from agent.tts.english import EnglishVoice

    return Speaker({"en": EnglishVoice()})


@pytest.fixture(scope="module")
def whisper() -> SpeechRecognizer:
    return SpeechRecognizer("packaged:tiny.en")


def heard(whisper: SpeechRecognizer, audio: np.ndarray, rate: int) -> str:
    return compact(whisper.transcribe(resample(audio, rate, 16000), language="en").text)


@pytest.mark.model
def test_english_voice_says_a_price_and_a_model_name(english: Speaker, whisper: SpeechRecognizer) -> None:
    audio = english.synthesize("The SmartBand X2 costs $199.", "en")
    text = heard(whisper, audio, english.rate)
    assert "smartbandx2" in text and "199" in text, text
    assert voiced_span(audio, english.rate)[0] <= 0.012 * english.rate
    assert float(np.abs(audio).max()) <= CEILING + 1e-6


@pytest.mark.model
def test_english_voice_reads_ratings_units_and_decimals(english: Speaker, whisper: SpeechRecognizer) -> None:
    text = heard(whisper, english.synthesize("The SmartBand X2 is rated IP68 and has a 5.3 inch screen.", "en"), 48000)
    assert "ip68" in text and "53inch" in text, text
    sentence = "The Power Bank 10000 has a 10,000 mAh battery."
    assert "10,000 milliamp hours" in normalize(sentence)  # read as words, not letters
    text = heard(whisper, english.synthesize(sentence, "en"), 48000)
    # Whisper writes the spoken "milliamp hours" out or abbreviates it, depending on the CPU's math
    assert "10000milliamp" in text or "10000mah" in text, text


@pytest.mark.model
def test_both_voices_load_and_sound_equally_loud() -> None:
    pytest.importorskip("agent.tts.mandarin")
    speaker = build.speaker()
    english = speaker.synthesize("The SmartBand X2 costs 199 yuan.", "en")
    chinese = speaker.synthesize("智能手环X2的价格是199元。", "zh")
    assert len(english) > 0 and len(chinese) > 0
    assert abs(db(speech_level(english, 48000)) - db(speech_level(chinese, 48000))) < 1.0
