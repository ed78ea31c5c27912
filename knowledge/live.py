"""Live facts: what the operator states during the show, for a while (an offer, a coupon, a stock
count, a flash sale that opens at a set time).

They are facts like the catalog's: the host says them in the operator's own words, answers from them
("only 12 left at this price"), and never says one outside its time window. They are kept in a small
JSON file, so a restarted agent still knows them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge.cache import cache_root, write_json
from knowledge.catalog import Text
from knowledge.facts import Fact

log = logging.getLogger("livehost.live")
KINDS = ("offer", "stock", "countdown")  # countdown: a flash sale announced "3, 2, 1" when it opens
MAX_TEXT = 200
MAX_FACTS = 50
MAX_SPAN_S = 7 * 24 * 3600  # a live fact is for this show, not for ever
LABELS = {
    "offer": Text(zh="直播间优惠", en="live offer"),
    "stock": Text(zh="现货数量", en="stock right now"),
    "countdown": Text(zh="限时抢购", en="flash sale"),
}


class LiveFactError(ValueError):
    pass


def live_facts_file(catalog: Path) -> Path:
    """Where a catalog's live facts are kept by default: one file per catalog in the cache."""
    key = hashlib.sha256(str(catalog.resolve()).encode()).hexdigest()[:16]
    return cache_root() / "live" / f"{catalog.stem}-{key}.json"


@dataclass(frozen=True)
class LiveFact:
    id: str
    kind: str
    text: Text  # the operator's words, in one or both languages
    product_id: str | None  # None: the whole shop
    starts_at: float  # unix seconds
    ends_at: float | None  # None: until removed (within MAX_SPAN_S of its start)

    def active(self, now: float) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    def as_fact(self) -> Fact:
        return Fact(
            id=f"live/{self.id}",
            kind="live",
            product_id=self.product_id,
            key=f"live:{self.kind}",
            label=LABELS[self.kind],
            value=self.text,
            statement=self.text,
        )

    def record(self) -> dict[str, object]:
        """As kept in the file."""
        return {**asdict(self), "text": {"zh": self.text.zh, "en": self.text.en}}

    def to_json(self, now: float) -> dict[str, object]:
        return {**self.record(), "active": self.active(now)}


class LiveFacts:
    """The operator's live facts, thread-safe; `path` keeps them across restarts (None: in memory)."""

    def __init__(self, path: Path | None = None, clock: Callable[[], float] = time.time):
        self.path, self.clock = path, clock
        self._lock = threading.Lock()
        self._facts: dict[str, LiveFact] = {}
        self._announced: set[str] = set()  # countdowns already said when they opened
        if path is not None and path.exists():
            self._load(path)

    def add(
        self,
        text: Text,
        kind: str = "offer",
        product_id: str | None = None,
        starts_in_s: float = 0.0,
        lasts_s: float | None = None,
        has_product: Callable[[str], bool] = lambda _: True,
    ) -> LiveFact:
        """A new live fact, checked: one clear error for anything wrong, nothing half-added."""
        if kind not in KINDS:
            raise LiveFactError(f"kind: must be one of {', '.join(KINDS)}")
        words = [t.strip() for t in text.variants()]
        if not words or not all(words):
            raise LiveFactError("text: say the fact in Chinese or English (or both)")
        if any(len(t) > MAX_TEXT for t in words):
            raise LiveFactError(f"text: at most {MAX_TEXT} characters, a sentence or two the host can say")
        if product_id is not None and not has_product(product_id):
            raise LiveFactError(f"product_id: '{product_id[:80]}' is not in the catalog")
        if not 0 <= starts_in_s <= MAX_SPAN_S:
            raise LiveFactError(f"starts_in_s: between 0 and {MAX_SPAN_S} seconds from now")
        if lasts_s is not None and not 0 < lasts_s <= MAX_SPAN_S:
            raise LiveFactError(f"lasts_s: more than 0 and at most {MAX_SPAN_S} seconds")
        now = self.clock()
        start = now + starts_in_s
        fact = LiveFact(
            id=secrets.token_hex(4),
            kind=kind,
            text=Text(zh=text.zh.strip() if text.zh else None, en=text.en.strip() if text.en else None),
            product_id=product_id,
            starts_at=start,
            ends_at=start + (lasts_s if lasts_s is not None else MAX_SPAN_S),
        )
        with self._lock:
            self._forget_ended(now)
            if len(self._facts) >= MAX_FACTS:
                raise LiveFactError(f"at most {MAX_FACTS} live facts at a time: remove one first")
            self._facts[fact.id] = fact
            self._save()
        return fact

    def remove(self, fact_id: str) -> bool:
        with self._lock:
            gone = self._facts.pop(fact_id, None) is not None
            if gone:
                self._save()
        return gone

    def all(self) -> list[LiveFact]:
        with self._lock:
            return sorted(self._facts.values(), key=lambda f: f.starts_at)

    def active(self, product_id: str | None = None, *, shop_wide: bool = True) -> list[LiveFact]:
        """What is true now: the product's live facts (and the whole shop's, with `shop_wide`)."""
        now = self.clock()
        return [
            f
            for f in self.all()
            if f.active(now) and (f.product_id == product_id or (shop_wide and f.product_id is None))
        ]

    def is_active(self, fact_id: str) -> bool:
        with self._lock:
            fact = self._facts.get(fact_id)
        return fact is not None and fact.active(self.clock())

    def opened(self) -> list[LiveFact]:
        """Countdowns whose sale has just opened and that have not been announced yet (each once)."""
        now = self.clock()
        with self._lock:
            due = [f for f in self._facts.values() if f.kind == "countdown" and f.active(now)]
            due = [f for f in due if f.id not in self._announced]
            self._announced.update(f.id for f in due)
            if due:
                self._save()
        return due

    # ---- keeping them across restarts ------------------------------------------------------
    def _forget_ended(self, now: float) -> None:
        for fact_id in [i for i, f in self._facts.items() if f.ends_at is not None and f.ends_at <= now]:
            del self._facts[fact_id]

    def _save(self) -> None:
        if self.path is None:
            return
        data = {
            "facts": [f.record() for f in self._facts.values()],
            "announced": sorted(self._announced & set(self._facts)),
        }
        try:
            write_json(self.path, data)
        except OSError as e:  # an unwritable file costs the restart, not the show
            log.warning("live facts not saved to %s: %s", self.path, e)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for item in data.get("facts", []):
                text = Text(zh=item["text"].get("zh"), en=item["text"].get("en"))
                fact = LiveFact(
                    str(item["id"]),
                    str(item["kind"]),
                    text,
                    item.get("product_id"),
                    float(item["starts_at"]),
                    None if item.get("ends_at") is None else float(item["ends_at"]),
                )
                if fact.kind in KINDS and text.variants():
                    self._facts[fact.id] = fact
            self._announced = {str(i) for i in data.get("announced", [])}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            log.warning("live facts in %s not read (%s): starting without them", path, e)
            self._facts, self._announced = {}, set()
