"""The plan of an answer: what it may say, decided before any text is generated (agent/answer/plan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from knowledge.facts import Fact

Status = Literal["answered", "unknown", "declined"]
# an answer is 1-3 short sentences: one per fact; in a comparison one per product and aspect
MAX_FACTS = 3


@dataclass(frozen=True)
class Plan:
    question: str
    language: str  # zh | en: the language of the question, and so of the answer
    status: Status
    reason: str  # answered: spec|faq|policy|compare|...; unknown: not_in_catalog|...; declined: manipulation|...
    product_ids: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    aspect: str | None = None
    candidates: tuple[str, ...] = ()  # products the viewer may mean, when that is unclear
    missing: tuple[str, ...] = field(default=())  # products in the question whose catalog lacks the aspect
