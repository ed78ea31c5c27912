"""The show report (复盘): what a stream's viewers asked, what the host could not answer, how fast it
answered, who was there, and what the show presented; a file the seller keeps and a page to look at.

It is fed from the running server: every finished turn (`on_turn`), the viewers in the room now and
then, and the show's segments. Questions answered "unknown" become an FAQ draft the seller can paste
into the catalog once they have the answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from knowledge.cache import cache_root, write_json

log = logging.getLogger("livehost.report")
MAX_TURNS = 5000  # a day of questions; the oldest go first
MAX_SAMPLES = 1440  # viewers, once a minute for a day
SAVE_EVERY_S = 10.0
COUNTED = ("answered", "unknown", "declined")  # the turns that were questions


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


class ShowReport:
    def __init__(self, path: Path | None = None, clock: Callable[[], float] = time.time):
        self.path, self.clock = path, clock
        self.started = clock()
        self._lock = threading.Lock()
        self.turns: list[dict[str, Any]] = []
        self.viewers: list[tuple[float, int]] = []
        self.segments: Counter[str] = Counter()
        self._saved = 0.0

    # ---- what the server tells it ------------------------------------------------------------
    def turn(self, turn: dict[str, Any]) -> None:
        """A finished turn (the `on_turn` record): kept if it was a question."""
        if turn.get("status") not in COUNTED or not str(turn.get("transcript") or "").strip():
            return
        timings = turn.get("timings_ms") or {}
        kept = {
            "at": self.clock(),
            "question": str(turn.get("transcript"))[:300],
            "language": turn.get("language") or "",
            "status": turn.get("status"),
            "products": list(turn.get("products") or []),
            "interrupted": bool(turn.get("interrupted")),
            # spoken: from the end of the question to the first sound of the answer; typed: to its first sentence
            "response_ms": timings.get("server_response") or timings.get("llm_first_sentence"),
        }
        with self._lock:
            self.turns = [*self.turns[-(MAX_TURNS - 1) :], kept]
        self._save_soon()

    def sample_viewers(self, count: int) -> None:
        with self._lock:
            self.viewers = [*self.viewers[-(MAX_SAMPLES - 1) :], (self.clock(), count)]

    def segment(self, product_id: str) -> None:
        """The show began presenting a product."""
        with self._lock:
            self.segments[product_id] += 1

    # ---- what the seller reads ---------------------------------------------------------------
    def summary(self, names: Callable[[str], str] = lambda p: p) -> dict[str, Any]:
        with self._lock:
            turns, viewers, segments = list(self.turns), list(self.viewers), Counter(self.segments)
        per_product: dict[str, Counter[str]] = {}
        for t in turns:
            for product in t["products"] or ["(no product)"]:
                per_product.setdefault(product, Counter())[f"{t['language']}:{t['status']}"] += 1
        unknown = list(dict.fromkeys((t["question"], tuple(t["products"])) for t in turns if t["status"] == "unknown"))
        declined = list(dict.fromkeys(t["question"] for t in turns if t["status"] == "declined"))
        response = [float(t["response_ms"]) for t in turns if isinstance(t["response_ms"], (int, float))]
        return {
            "started_at": self.started,
            "duration_s": round(self.clock() - self.started, 1),
            "questions": len(turns),
            "by_status": dict(Counter(t["status"] for t in turns)),
            "by_language": dict(Counter(t["language"] for t in turns)),
            "by_product": [
                {
                    "product": p,
                    "name": names(p) if p != "(no product)" else p,
                    "counts": dict(c),
                    "total": sum(c.values()),
                }
                for p, c in sorted(per_product.items(), key=lambda kv: -sum(kv[1].values()))
            ],
            "unknown": [{"question": q, "products": list(p)} for q, p in unknown],
            "faq_draft": faq_draft(unknown),
            "declined": declined,
            "interruptions": sum(t["interrupted"] for t in turns),
            "response_ms": {"p50": percentile(response, 0.5), "p90": percentile(response, 0.9), "count": len(response)},
            "viewers": [{"at": at, "count": n} for at, n in viewers],
            "segments": [{"product": p, "name": names(p), "times": n} for p, n in segments.most_common()],
        }

    def save(self) -> None:
        if self.path is None:
            return
        try:
            write_json(self.path, self.summary())
            self._saved = self.clock()
        except OSError as e:  # an unwritable report costs the file, never the show
            log.warning("show report not saved to %s: %s", self.path, e)

    def _save_soon(self) -> None:
        if self.clock() - self._saved >= SAVE_EVERY_S:
            self.save()


def faq_draft(unknown: list[tuple[str, tuple[str, ...]]]) -> str:
    """The questions the host could not answer, as catalog FAQ entries to fill in (per product)."""
    by_product: dict[str, list[str]] = {}
    for question, products in unknown:
        for product in products or ("(store)",):
            by_product.setdefault(product, []).append(question)
    draft = [
        {"product": p, "faq": [{"q": q, "a": "TODO: the answer, in the seller's words"} for q in qs]}
        for p, qs in by_product.items()
    ]
    return yaml.safe_dump(draft, allow_unicode=True, sort_keys=False) if draft else ""


def report_file(catalog: Path) -> Path:
    """Where a show's report is kept by default: one file per start, in the cache."""
    return cache_root() / "reports" / f"{catalog.stem}-{time.strftime('%Y%m%d-%H%M%S')}.json"
