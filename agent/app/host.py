"""The AI host as one object: its catalog, its answer engine and the models behind them.

The CLI and the server build a `Host` the same way (agent/app/build.py, which also builds its
language model), so `livehost ask` answers exactly as the running agent would.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.answer.compose import CatalogComposer, ModelComposer
from agent.answer.engine import AnswerEngine
from agent.engines import ChatStream, Composer
from agent.tts.memory import trim_soon
from knowledge.base import LiveCatalog
from knowledge.embedding import Embedder
from knowledge.live import LiveFacts
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
    live_facts: Path | None = None  # where the operator's live facts are kept across restarts (None: memory)


class Host:
    def __init__(
        self,
        options: HostOptions,
        chat: Callable[[], ChatStream] | None = None,
        embedder: Callable[[], Embedder | None] | None = None,
    ):
        """`chat` builds the language model, called only when the composer may use one; `embedder`
        the sentence embedder retrieval matches questions with (None: by words only)."""
        self.options = options
        self.live = LiveFacts(options.live_facts)
        self.catalog = LiveCatalog(
            options.catalog, embedder if embedder and options.embeddings else lambda: None, self.live
        )
        self.model_name: str | None = None
        self.composer_note = "catalog sentences (chosen)"
        composer: Composer = CatalogComposer()
        if options.composer in ("model", "auto"):
            if chat is None:
                raise ValueError(f"the '{options.composer}' composer needs a language model (build the host with one)")
            model = chat()
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
