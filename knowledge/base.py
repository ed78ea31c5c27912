"""The knowledge base the agent answers from: a catalog with its resolver and fact index.

`LiveCatalog` is what a running agent holds: reloading a broken file reports the problems and
keeps serving the last good catalog.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from knowledge.catalog import Catalog
from knowledge.embedding import Embedder
from knowledge.facts import Fact
from knowledge.live import LiveFacts
from knowledge.loader import load_catalog
from knowledge.resolve import ProductResolver
from knowledge.retrieval import FactIndex
from knowledge.sources import CatalogError, Problem


class KnowledgeBase:
    def __init__(self, catalog: Catalog, embedder: Embedder | None = None, live: LiveFacts | None = None):
        self.catalog = catalog
        self.resolver = ProductResolver(catalog)
        self.index = FactIndex(catalog, embedder)
        self.live = live  # the operator's live facts (offers, stock counts), kept across catalog reloads

    def facts_of(self, product_id: str) -> list[Fact]:
        return self.index.by_product.get(product_id, [])

    def policies(self) -> list[Fact]:
        return [f for f in self.index.by_product.get(None, []) if f.kind == "policy"]


class LiveCatalog:
    """The current knowledge base of a running agent, swapped atomically on a good reload."""

    def __init__(
        self,
        path: Path | str,
        embedder_factory: Callable[[], Embedder | None] = lambda: None,
        live: LiveFacts | None = None,
    ):
        self.path = Path(path)
        self._embedder = embedder_factory()
        self.live = live
        self._lock = threading.Lock()
        self.current = KnowledgeBase(load_catalog(self.path), self._embedder, live)  # a broken first load is fatal
        self.last_problems: list[Problem] = []

    def reload(self, path: Path | str | None = None) -> list[Problem]:
        """Load the file again (or another one); on any problem keep serving the previous catalog."""
        target = Path(path) if path else self.path
        try:
            base = KnowledgeBase(load_catalog(target), self._embedder, self.live)
        except CatalogError as e:
            self.last_problems = e.problems
            return e.problems
        with self._lock:
            self.current, self.path, self.last_problems = base, target, []
        return []
