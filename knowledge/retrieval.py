"""Hybrid retrieval over catalog facts: BM25 on segmented words plus multilingual embeddings.

BM25 catches exact terms (model codes, "NFC", "续航"); the embeddings catch paraphrases and
questions in the other language than the catalog text. Scores are fused per fact.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections import Counter
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.cache import cache_root
from knowledge.catalog import Catalog
from knowledge.embedding import Embedder
from knowledge.facts import Fact, catalog_facts
from knowledge.text import add_words, tokens


@dataclass(frozen=True)
class ScoredFact:
    fact: Fact
    score: float  # fused
    lexical: float  # BM25, normalized to 0..1 over the candidates
    semantic: float  # cosine similarity


def topic_text(fact: Fact) -> str:
    """What a fact is about, in every language the catalog has: the text questions are matched to."""
    parts = [*fact.label.variants(), fact.key.replace("_", " ")]
    if fact.kind != "description":
        parts += fact.value.variants()
    return " ".join(parts)


class Bm25:
    def __init__(self, documents: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.docs = [Counter(d) for d in documents]
        self.lengths = [len(d) for d in documents]
        self.avg = sum(self.lengths) / max(len(documents), 1)
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(documents)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def score(self, query: list[str], index: int) -> float:
        doc, length = self.docs[index], self.lengths[index]
        total = 0.0
        for term in set(query):
            tf = doc.get(term, 0)
            if tf:
                norm = self.k1 * (1 - self.b + self.b * length / self.avg)
                total += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
        return total


# facts found by meaning; prices and variant listings are found by their kind, so they need no vector
EMBEDDED = frozenset({"spec", "faq", "description", "detail", "policy"})


def vector_cache() -> Path:
    return cache_root() / "vectors"


def clear_vector_cache() -> None:
    shutil.rmtree(vector_cache(), ignore_errors=True)


def encode_cached(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Vectors of `texts`, each distinct text encoded once, kept on disk by content for the next load."""
    unique = list(dict.fromkeys(texts))
    key = hashlib.sha256((type(embedder).__name__ + "\x00" + "\x00".join(unique)).encode()).hexdigest()[:32]
    path = vector_cache() / f"{key}.npy"
    vectors: np.ndarray | None = None
    if path.exists():
        try:
            vectors = np.load(path)
        except (OSError, ValueError):
            vectors = None
    if vectors is None or len(vectors) != len(unique):
        vectors = embedder.encode(unique)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, vectors)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs time
    row = {t: i for i, t in enumerate(unique)}
    return vectors[[row[t] for t in texts]] if texts else np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0))


class FactIndex:
    def __init__(self, catalog: Catalog, embedder: Embedder | None):
        self.catalog = catalog
        self.facts = catalog_facts(catalog)
        self.position = {id(f): i for i, f in enumerate(self.facts)}
        self.by_product: dict[str | None, list[Fact]] = {}
        for f in self.facts:
            self.by_product.setdefault(f.product_id, []).append(f)
        add_words(self._vocabulary(catalog))
        self.topics = [topic_text(f) for f in self.facts]
        self.bm25 = Bm25([tokens(t) for t in self.topics])
        self.embedder = embedder
        self._last_query: tuple[str | None, np.ndarray] = (None, np.zeros(0))
        self.vectors = self.label_vectors = None
        self._product_vectors: np.ndarray | None = None
        self._product_row: dict[str, int] = {}
        self._texts: dict[str, str] | None = None
        if embedder is not None:
            embedded = [i for i, f in enumerate(self.facts) if f.kind in EMBEDDED]
            # what each fact is about (label and value), and what it answers alone (an FAQ's question)
            texts = [self.topics[i] for i in embedded] + [" / ".join(self.facts[i].label.variants()) for i in embedded]
            found = encode_cached(embedder, texts)
            width = found.shape[1] if found.ndim == 2 and len(found) else 512
            self.vectors = np.zeros((len(self.facts), width), dtype=np.float32)
            self.label_vectors = np.zeros((len(self.facts), width), dtype=np.float32)
            if embedded:
                self.vectors[embedded] = found[: len(embedded)]
                self.label_vectors[embedded] = found[len(embedded) :]

    @staticmethod
    def _vocabulary(catalog: Catalog) -> list[str]:
        words = [w for p in catalog.products for w in (*p.name.variants(), *p.aliases)]
        words += [w for label in catalog.spec_labels.values() for w in label.variants()]
        return words

    def search(self, question: str, facts: list[Fact] | None = None, k: int = 8) -> list[ScoredFact]:
        """Rank `facts` (default: all) for the question, best first."""
        positions = list(range(len(self.facts))) if facts is None else [self.position[id(f)] for f in facts]
        if not positions:
            return []
        query = tokens(question)
        lexical = np.array([self.bm25.score(query, i) for i in positions])
        top = float(lexical.max()) if len(lexical) else 0.0
        lexical = lexical / top if top > 0 else lexical
        if self.embedder is not None and self.vectors is not None:
            semantic = self.vectors[positions] @ self._query_vector(question)
        else:
            semantic = np.zeros(len(positions))
        fused = 0.5 * lexical + semantic
        order = np.argsort(-fused)[:k]
        return [
            ScoredFact(self.facts[positions[j]], float(fused[j]), float(lexical[j]), float(semantic[j])) for j in order
        ]

    def warm(self) -> None:
        """Load the embedder's model now: it loads at its first question otherwise (a server warms it at start)."""
        if self.embedder is not None:
            self._query_vector("warm")

    def _query_vector(self, question: str) -> np.ndarray:
        """The question's embedding; one planning step searches several times with the same question."""
        if self._last_query[0] != question:
            assert self.embedder is not None
            self._last_query = (question, self.embedder.encode([question])[0])
        return self._last_query[1]

    def rank_products(self, question: str, product_ids: list[str], favoured: Set[str] = frozenset()) -> list[str]:
        """Products best suited to a stated need, best first: the question against each product's own text
        and its best fitting fact; `favoured` ones (those a word of the question names) a little ahead."""
        if len(product_ids) <= 1 or self.embedder is None:
            return product_ids
        texts = self._product_texts()
        if self._product_vectors is None:
            self._product_vectors = encode_cached(self.embedder, [texts[p.id] for p in self.catalog.products])
            self._product_row = {p.id: i for i, p in enumerate(self.catalog.products)}
        vectors = self._product_vectors[[self._product_row[p] for p in product_ids]]
        query = self._query_vector(question)
        lexical = [self.bm25_text_score(question, texts[p]) for p in product_ids]
        top = max(lexical) or 1.0
        scores = [
            0.5 * float(v @ query) + self._support(query, pid)[0] + 0.3 * lx / top + 0.15 * (pid in favoured)
            for v, lx, pid in zip(vectors, lexical, product_ids, strict=True)
        ]
        return [pid for _, pid in sorted(zip(scores, product_ids, strict=True), key=lambda x: -x[0])]

    def supporting_fact(self, question: str, product_id: str) -> Fact | None:
        """The product's fact that best meets the need the question states."""
        return self._support(self._query_vector(question), product_id)[1] if self.embedder is not None else None

    def _support(self, query: np.ndarray, product_id: str) -> tuple[float, Fact | None]:
        """How well the product's single best fact meets a stated need ("self-emptying" for "cats that
        shed"): one fitting feature decides, not the average of all its text. A feature it lacks
        ("self empty: no") supports nothing."""
        facts = [
            f
            for f in self.by_product.get(product_id, [])
            if f.kind in EMBEDDED and f.kind != "faq" and f.polarity is not False
        ]
        if self.vectors is None or not facts:
            return 0.0, None
        sims = self.vectors[[self.position[id(f)] for f in facts]] @ query
        best = int(np.argmax(sims))
        return float(sims[best]), facts[best]

    def best_product_score(self, question: str, product_ids: list[str]) -> float:
        """How close the closest product's own text comes to the question (cosine)."""
        if self.embedder is None or not product_ids:
            return 0.0
        self.rank_products(question, product_ids[:2])  # builds the product vectors once
        if self._product_vectors is None:
            return 0.0
        rows = [self._product_row[p] for p in product_ids]
        return float(np.max(self._product_vectors[rows] @ self._query_vector(question)))

    def _product_texts(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = {}
            for p in self.catalog.products:
                parts = [*p.name.variants(), *(p.category.variants() if p.category else [])]
                parts += p.description.variants() if p.description else []
                facts = self.by_product.get(p.id, [])
                parts += [t for f in facts if f.kind == "spec" for t in f.value.variants()][:12]
                self._texts[p.id] = " ".join(parts)
        return self._texts

    @staticmethod
    def bm25_text_score(question: str, text: str) -> float:
        words = set(tokens(text))
        return float(sum(1 for t in set(tokens(question)) if t in words))

    def label_similarity(self, question: str, facts: list[Fact]) -> list[tuple[Fact, float]]:
        """Cosine similarity of the question to what each fact answers (an FAQ's own question), best first."""
        if self.embedder is None or self.label_vectors is None or not facts:
            return []
        rows = [self.position[id(f)] for f in facts]
        sims = self.label_vectors[rows] @ self._query_vector(question)
        return sorted(zip(facts, (float(x) for x in sims), strict=True), key=lambda p: -p[1])
