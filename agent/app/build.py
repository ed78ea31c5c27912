"""Where the pipeline is built from what the user chose: the one place that names concrete engines.

The command line (`agent/app/cli.py`) and the benchmark commands (`evals/bench_commands.py`) describe their
options with `host_arguments` / `voice_arguments` and get their parts from here: the host (catalog,
answer engine, composer and language model or chat endpoint), the voice models (recognizer, voices,
turn detection) and a recognizer on its own. A model that cannot load is one `UserError` sentence.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from knowledge.loader import SAMPLE_CATALOG, load_catalog


class UserError(Exception):
    """A problem the user can fix, reported as one sentence."""


def host_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", type=Path, default=SAMPLE_CATALOG, help="catalog file (default: the built-in sample)")
    composer_help = (
        "model: the LLM phrases checked answers; catalog: catalog sentences only; "
        "auto (default): the model when it is fast enough on this device, else catalog sentences"
    )
    p.add_argument("--composer", choices=("auto", "model", "catalog"), default="auto", help=composer_help)
    p.add_argument("--model", help="LLM: packaged name, local HF directory, .gguf file or hub id")
    p.add_argument("--llm-url", help="an OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama) instead")
    p.add_argument("--llm-model", default="default", help="the model name that endpoint expects")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, help="CPU threads for the model (default: all cores)")


def voice_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--asr-model", help="Whisper: packaged:base (default), packaged:tiny.en, a CTranslate2 dir or a name"
    )
    p.add_argument(
        "--turn-model", help="end-of-turn model: a local .onnx, or 'off' for pauses only (default: smart-turn)"
    )
    p.add_argument(
        "--partials",
        type=float,
        metavar="MS",
        help="draft transcripts every MS of speech (default: 640 on cuda, off on cpu)",
    )


def build_voice(args: argparse.Namespace, host: Any) -> Any:
    from agent.app.voice import VoiceModels, VoiceOptions

    options = VoiceOptions(
        asr_model=args.asr_model, turn_model=args.turn_model, device=args.device, partial_every_ms=args.partials
    )
    try:
        voice = VoiceModels(options, host.catalog.current.catalog)
    except Exception as e:  # a missing or broken model file: one sentence, no traceback
        raise UserError(f"the voice models could not be loaded: {e}") from None
    voice.warm()
    return voice


def build_host(args: argparse.Namespace) -> Any:
    from agent.app.host import Host, HostOptions
    from agent.llm.openai_chat import ChatEndpointError
    from agent.llm.weights import ModelError

    try:
        return Host(
            HostOptions(
                catalog=args.catalog,
                composer=args.composer,
                model=args.model,
                device=args.device,
                threads=args.threads,
                llm_url=getattr(args, "llm_url", None),
                llm_model=getattr(args, "llm_model", "default"),
            )
        )
    except (ModelError, ChatEndpointError) as e:
        raise UserError(str(e)) from None


def build_recognizer(model: str | None, device: str, threads: int = 2, catalog: Path | None = None) -> Any:
    from agent.asr.lexicon import Lexicon, catalog_terms
    from agent.asr.recognizer import SpeechRecognizer, catalog_vocabulary
    from agent.asr.weights import AsrModelError

    vocabulary, lexicon = None, None
    if catalog:
        loaded = load_catalog(catalog)
        vocabulary = catalog_vocabulary([(p.name.zh, p.name.en) for p in loaded.products])
        lexicon = Lexicon(catalog_terms(loaded))
    try:
        return SpeechRecognizer(model, device=device, threads=threads, vocabulary=vocabulary, lexicon=lexicon)
    except AsrModelError as e:
        raise UserError(str(e)) from None
