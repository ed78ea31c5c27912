"""Cutting a stream of answer text into speakable clauses for the TTS.

Sentence ends always cut; commas cut once the clause is long enough, and the first clause is
allowed to be short so that speech can start early. Decimal points and thousands separators
("5.3", "1,299") never cut.
"""

from __future__ import annotations

import re

STRONG = "。！？!?；;\n"
WEAK = "，,、：:"
MARKUP = re.compile(r"[*#`_>|]+|^\s*[-•]\s+", re.MULTILINE)


class ClauseSplitter:
    def __init__(self, first_min: int = 6, min_chars: int = 14):
        self.first_min = first_min
        self.min_chars = min_chars
        self.buffer = ""
        self.emitted = 0

    def feed(self, text: str) -> list[str]:
        self.buffer += text
        out: list[str] = []
        while True:
            cut = self._cut()
            if cut is None:
                return out
            clause, self.buffer = self.buffer[:cut], self.buffer[cut:]
            if _speakable(clause):
                out.append(clean(clause))
                self.emitted += 1

    def flush(self) -> list[str]:
        rest, self.buffer = self.buffer, ""
        return [clean(rest)] if _speakable(rest) else []

    def _cut(self) -> int | None:
        minimum = self.first_min if self.emitted == 0 else self.min_chars
        for i, ch in enumerate(self.buffer[:-1]):  # the char after a boundary must be known
            nxt = self.buffer[i + 1]
            prev = self.buffer[i - 1] if i else ""
            if ch in "." and not (prev.isdigit() and nxt.isdigit()) and nxt.isspace():
                return i + 1
            if ch in STRONG:
                return i + 1
            if ch in WEAK and not (prev.isdigit() and nxt.isdigit()) and len(self.buffer[: i + 1].strip()) >= minimum:
                return i + 1
        return None


def clean(text: str) -> str:
    """Spoken text: no markdown, single spaces."""
    return " ".join(MARKUP.sub("", text).split())


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def split_text(text: str) -> list[str]:
    splitter = ClauseSplitter()
    return splitter.feed(text) + splitter.flush()
