"""Tests of the language-model layer (agent.llm.weights / agent.llm.model).

Tests marked ``model`` load the real packaged Qwen2.5 0.5B model. The first run converts the GGUF
into the cache (~70 s, ~4 GB RAM); afterwards the whole file runs in well under a minute on 2 CPU cores.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from agent.llm.weights import DEFAULT_MODEL, ModelError, resolve_model

SYSTEM = "You are a shop assistant. Answer in one short sentence using only the facts."
USER_EN = "Facts: SmartBand X2 price: 199 CNY.\nQuestion: How much is the SmartBand X2?"
SYSTEM_ZH = "你是直播间的购物助手。只根据提供的事实，用一句简短的中文回答。"
USER_ZH = "事实：SmartBand X2 价格：199元。\n问题：SmartBand X2 多少钱？"
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- no model needed


def test_missing_path_raises_model_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError) as info:
        resolve_model(str(missing), cache_dir=tmp_path / "cache")
    assert str(missing) in str(info.value)


def test_missing_gguf_file_raises_model_error(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.gguf"
    with pytest.raises(ModelError) as info:
        resolve_model(str(missing), cache_dir=tmp_path / "cache")
    assert str(missing) in str(info.value)


def test_not_a_gguf_file_raises_model_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"definitely not gguf" * 10)
    with pytest.raises(ModelError, match="not a GGUF file"):
        resolve_model(str(bogus), cache_dir=tmp_path / "cache")
    # nothing half-written is left behind
    assert not list((tmp_path / "cache").glob("models/gguf-*"))


def test_directory_without_weights_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="neither config.json nor a .gguf"):
        resolve_model(str(tmp_path), cache_dir=tmp_path / "cache")


def test_hf_directory_is_returned_as_is(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path), cache_dir=tmp_path / "cache") == tmp_path.resolve()


def test_unknown_packaged_name_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Unknown packaged model"):
        resolve_model("packaged:nope-1b", cache_dir=tmp_path / "cache")


def test_weights_module_has_no_heavy_imports() -> None:
    import subprocess
    import sys

    code = "import sys, agent.llm.weights; print(any(m in sys.modules for m in ('torch', 'transformers')))"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def chat_model():
    from agent.llm.model import ChatModel

    return ChatModel(threads=2)


@pytest.mark.model
def test_packaged_model_resolves() -> None:
    path = resolve_model(None)
    assert path == resolve_model(DEFAULT_MODEL)
    assert (path / "config.json").is_file()
    assert list(path.glob("*.safetensors"))
    assert (path / "tokenizer.json").is_file() or (path / "tokenizer_config.json").is_file()


@pytest.mark.model
def test_english_grounded_answer(chat_model) -> None:
    pieces = list(chat_model.stream(SYSTEM, USER_EN, max_new_tokens=40))
    text = "".join(pieces)
    assert "199" in text, text
    assert len(pieces) > 1  # really streamed
    t = chat_model.last_timings
    assert t["stop_reason"] in {"eos", "max_tokens"}
    assert t["prompt_tokens"] > t["cached_prefix_tokens"] > 0
    assert t["tokens"] >= 1 and t["first_token_ms"] is not None and t["prefill_ms"] > 0


@pytest.mark.model
def test_chinese_grounded_answer(chat_model) -> None:
    pieces = list(chat_model.stream(SYSTEM_ZH, USER_ZH, max_new_tokens=40))
    text = "".join(pieces)
    assert "199" in text, text
    assert CJK.search(text), text
    # incremental detokenization never yields a broken multi-byte character
    assert all("\ufffd" not in p for p in pieces), pieces


@pytest.mark.model
def test_warm_then_reuse(chat_model) -> None:
    system = SYSTEM + " Be friendly."
    chat_model.warm(system)
    list(chat_model.stream(system, USER_EN, max_new_tokens=4))
    t = chat_model.last_timings
    assert t["prefix_build_ms"] == 0.0  # already warm
    assert t["cached_prefix_tokens"] > 10


@pytest.mark.model
def test_cancel_stops_stream(chat_model) -> None:
    cancel = threading.Event()
    pieces = []
    for piece in chat_model.stream(SYSTEM, "Describe a smart watch in detail.", max_new_tokens=200, cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 2:
            cancel.set()
    assert chat_model.last_timings["stop_reason"] == "cancel"
    assert chat_model.last_timings["tokens"] < 10

    pre_set = threading.Event()
    pre_set.set()
    assert list(chat_model.stream(SYSTEM, USER_EN, cancel=pre_set)) == []


@pytest.mark.model
def test_closing_generator_records_timings(chat_model) -> None:
    gen = chat_model.stream(SYSTEM, "Describe a smart watch in detail.", max_new_tokens=200)
    next(gen)
    gen.close()
    assert chat_model.last_timings["stop_reason"] == "closed"


@pytest.mark.model
def test_prefix_reuse_matches_full_prefill(chat_model) -> None:
    for system, user in ((SYSTEM, USER_EN), (SYSTEM_ZH, USER_ZH)):
        reused = "".join(chat_model.stream(system, user, max_new_tokens=24))
        assert chat_model.last_timings["cached_prefix_tokens"] > 0
        full = "".join(chat_model.stream(system, user, max_new_tokens=24, reuse_prefix=False))
        assert chat_model.last_timings["cached_prefix_tokens"] == 0
        assert reused == full
