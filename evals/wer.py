"""Word error rate (English) and character error rate (Chinese) against reference transcripts."""

from __future__ import annotations

import re

from knowledge.text import CJK, normalize


def units(text: str) -> list[str]:
    """Words for Latin script, characters for Chinese; case and punctuation ignored."""
    text = normalize(text)
    out: list[str] = []
    for token in re.findall(r"[a-z0-9']+|[\u3400-\u9fff]", text):
        out.extend(list(token) if CJK.match(token) else [token.strip("'")])
    return [t for t in out if t]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def error_rate(pairs: list[tuple[str, str]]) -> float:
    """Total edits over total reference units, for (reference, hypothesis) pairs."""
    edits = total = 0
    for ref, hyp in pairs:
        r = units(ref)
        edits += edit_distance(r, units(hyp))
        total += len(r)
    return edits / max(total, 1)
