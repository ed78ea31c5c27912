"""The AI host as one object: its catalog, its answer engine and the models behind them.

The CLI and the server build a `Host` the same way, so `livehost ask` answers exactly as the
running agent would.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path

from agent.answer.compose import CatalogComposer, ChatStream, Composer, ModelComposer
from agent.answer.engine import AnswerEngine
from agent.tts.memory import trim_soon
from knowledge.base import LiveCatalog
from knowledge.embedding import Embedder, UniversalSentenceEncoder
from knowledge.loader import SAMPLE_CATALOG
from knowledge.sources import Problem

COMPOSERS = ("auto", "model", "catalog")
# auto: the model phrases answers only if it reaches a first clause within this budget on this machine
FIRST_CLAUSE_BUDGET_MS = 500.0


@dataclass(frozen=True)
class HostOptions:
    catalog: Path = SAMPLE_CATALOG
    composer: str = "auto"  # model: the LLM phrases checked answers; catalog: catalog sentences; auto: by speed
    model: str | None = None  # None: the packaged Qwen2.5 0.5B; or a local directory, a .gguf file, a hub id
    device: str = "cpu"
    threads: int | None = None
    embeddings: bool = True
    llm_url: str | None = None  # an OpenAI-compatible endpoint instead of the local model
    llm_model: str = "default"  # the model name that endpoint expects


def configure_threads(threads: int | None) -> int:
    """Pin the math libraries' thread pools before they start (they default to every core)."""
    n = threads or max(1, min(os.cpu_count() or 1, 8))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    return n


class Host:
    def __init__(self, options: HostOptions):
        self.options = options
        threads = configure_threads(options.threads)
        embedder_factory = (lambda: _embedder()) if options.embeddings else (lambda: None)
        self.catalog = LiveCatalog(options.catalog, embedder_factory)
        self.model_name: str | None = None
        self.composer_note = "catalog sentences (chosen)"
        composer: Composer = CatalogComposer()
        if options.composer in ("model", "auto"):
            model = _chat_model(options, threads)
            self.model_name = (
                f"{options.llm_model} at {options.llm_url}"
                if options.llm_url
                else options.model or "packaged:qwen2.5-0.5b-instruct"
            )
            composer = ModelComposer(model)
            composer.warm()
            self.composer_note = "the language model phrases checked answers (chosen)"
            if options.composer == "auto":
                probe_ms = composer.probe()
                if probe_ms > FIRST_CLAUSE_BUDGET_MS:
                    composer = CatalogComposer()  # the model is dropped; its memory goes with it
                    del model
                    gc.collect()
                    trim_soon()  # glibc keeps the freed gigabyte otherwise
                    self.model_name = None
                    self.composer_note = (
                        f"catalog sentences: the model needs {probe_ms:.0f} ms to a first clause on {options.device}, "
                        f"over the {FIRST_CLAUSE_BUDGET_MS:.0f} ms budget"
                    )
                else:
                    self.composer_note = f"the language model ({probe_ms:.0f} ms to a first clause on {options.device})"
        self.engine = AnswerEngine(self.catalog.current, composer)

    def reload_catalog(self, path: Path | str | None = None) -> list[Problem]:
        """Reload the catalog; on problems the host keeps answering from the previous one."""
        problems = self.catalog.reload(path)
        if not problems:
            self.engine.use(self.catalog.current)
        return problems


def _chat_model(options: HostOptions, threads: int) -> ChatStream:
    """The one place that picks the language model: a remote OpenAI-compatible endpoint or a local one."""
    if options.llm_url:
        from agent.llm.openai_chat import OpenAIChat

        return OpenAIChat(options.llm_url, options.llm_model, api_key=os.environ.get("LIVEHOST_LLM_API_KEY"))
    from agent.llm.model import ChatModel

    return ChatModel(options.model, device=options.device, threads=threads)


def _embedder() -> Embedder:
    return UniversalSentenceEncoder(threads=1)
