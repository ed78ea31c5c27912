"""Catalog-aware correction of Chinese transcripts by sound.

Whisper often writes a catalog word as a homophone (充电宝 -> 充电保, 手环 -> 守皇); ``Lexicon.correct`` puts the
catalog's own spelling back wherever a span of the transcript sounds like a catalog term (toneless, fuzzy pinyin).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

from knowledge.catalog import Catalog

_HANZI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# jieba frequency of a real, common word (印象 2079, 音响 285); product words sit below it (音箱 93, 手环 3)
_COMMON_WORD_FREQ = 100

_RETROFLEX = (("zh", "z"), ("ch", "c"), ("sh", "s"))


def _fuzzy(syllable: str) -> str:
    """Key of a toneless syllable that merges the sounds Whisper (and many speakers) confuse."""
    for retroflex, flat in _RETROFLEX:
        if syllable.startswith(retroflex):
            syllable = flat + syllable[2:]
            break
    # huang~huan, cheng~chen; the bare syllable "ng" (嗯) keeps its form
    if len(syllable) > 2 and syllable.endswith("ng"):
        syllable = syllable[:-1]
    # l/n are merged by southern speakers; "n" alone (嗯) is no initial
    if len(syllable) > 1 and syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    return syllable


def _keys(run: str) -> list[str]:
    """Fuzzy key per character of a run of hanzi, read in context (one reading each)."""
    syllables = lazy_pinyin(run, style=Style.NORMAL)
    if len(syllables) != len(run):
        # characters without pinyin come back glued together; read one by one to keep one key per character
        syllables = [lazy_pinyin(char, style=Style.NORMAL)[0] for char in run]
    return [_fuzzy(s) for s in syllables]


@lru_cache(maxsize=8192)
def _all_readings(char: str) -> tuple[str, ...]:
    """Fuzzy keys of every reading of one character: Whisper picks characters by sound, whatever reading it meant."""
    readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    return tuple(dict.fromkeys(_fuzzy(r) for r in readings))


@lru_cache(maxsize=1)
def _word_freq() -> dict[str, int]:
    """jieba's dictionary (word -> frequency), loaded once per process."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    freq: dict[str, int] = jieba.dt.FREQ
    return freq


class Lexicon:
    """Chinese terms the transcript should contain, matched by sound."""

    def __init__(self, terms: Iterable[str]) -> None:
        # (length, key tuple) -> terms with that sound, in the order given (the first one is the replacement)
        self._by_key: dict[tuple[int, tuple[str, ...]], list[str]] = {}
        # every (length, key prefix): lets the search over polyphonic readings stop at the first dead end
        self._prefixes: set[tuple[int, tuple[str, ...]]] = set()
        self._terms: set[str] = set()
        for term in terms:
            for run in _HANZI_RUN.findall(term):
                # single characters match far too much by sound
                if len(run) < 2 or run in self._terms:
                    continue
                self._terms.add(run)
                key = tuple(_keys(run))
                self._by_key.setdefault((len(run), key), []).append(run)
                for end in range(1, len(key) + 1):
                    self._prefixes.add((len(run), key[:end]))
        # longest first, so the longer of two overlapping candidates wins
        self._lengths = sorted({length for length, _ in self._by_key}, reverse=True)
        self._freq = _word_freq()

    @property
    def terms(self) -> frozenset[str]:
        """The hanzi terms indexed (mixed terms contribute their runs of 2+ hanzi)."""
        return frozenset(self._terms)

    def correct(self, text: str) -> str:
        """The transcript with sound-alike spans replaced by the terms."""
        if not text or not self._lengths:
            return text
        pieces: list[str] = []
        last = 0
        for match in _HANZI_RUN.finditer(text):
            pieces.append(text[last : match.start()])
            pieces.append(self._correct_run(match.group()))
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)

    def _correct_run(self, run: str) -> str:
        if len(run) < self._lengths[-1]:
            return run
        # the reading in context first, so it decides between terms when several readings match
        readings = [
            tuple(dict.fromkeys((key, *_all_readings(char)))) for key, char in zip(_keys(run), run, strict=True)
        ]
        chars = list(run)
        taken = [False] * len(run)
        for length in self._lengths:
            for start in range(len(run) - length + 1):
                end = start + length
                if any(taken[start:end]):
                    continue
                window = run[start:end]
                if window in self._terms:
                    # already right: protect it from shorter terms that overlap it
                    taken[start:end] = [True] * length
                    continue
                if length == 2 and self._common(run, start, end):
                    continue
                # 2 characters match by chance too easily under every reading (手还 -> 手环): read them in context only
                window_readings = readings[start:end] if length > 2 else [r[:1] for r in readings[start:end]]
                term = self._match(window_readings, length)
                if term is not None:
                    chars[start:end] = term
                    taken[start:end] = [True] * length
        return "".join(chars)

    def _common(self, run: str, start: int, end: int) -> bool:
        """A 2-character window that is a common word, or cuts one in half at either edge (体支|持)."""
        around = [run[start:end], run[max(0, start - 1) : start + 1], run[end - 1 : end + 1]]
        return any(len(w) == 2 and self._freq.get(w, 0) >= _COMMON_WORD_FREQ for w in around)

    def _match(self, readings: list[tuple[str, ...]], length: int, prefix: tuple[str, ...] = ()) -> str | None:
        """The first term whose keys pick one reading per character of the window, or None."""
        position = len(prefix)
        if position == length:
            return self._by_key[(length, prefix)][0]
        for key in readings[position]:
            extended = (*prefix, key)
            # prune: no term of this length starts with these sounds
            if (length, extended) in self._prefixes:
                found = self._match(readings, length, extended)
                if found is not None:
                    return found
        return None


def catalog_terms(catalog: Catalog) -> list[str]:
    """The Chinese words a viewer uses about this catalog: product names, aliases, categories, spec
    labels, and the question vocabulary of the aspect lexicon."""
    from knowledge.aspects import ASPECTS

    terms: list[str] = []
    for product in catalog.products:
        terms += [product.name.zh or "", (product.category.zh if product.category else None) or "", *product.aliases]
    terms += [label.zh or "" for label in catalog.spec_labels.values()]
    terms += [term for aspect in ASPECTS for term in aspect.terms]
    return [t for t in dict.fromkeys(terms) if _HANZI_RUN.search(t)]
