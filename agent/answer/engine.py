"""The answer engine: one question in, a stream of grounded clauses out, with its timings.

This is the text core of a turn; the voice loop feeds it transcripts and speaks its clauses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agent.answer.compose import CatalogComposer, Clause
from agent.answer.plan import Plan, Planner
from agent.engines import Composer
from knowledge.base import KnowledgeBase


@dataclass
class Answer:
    question: str
    plan: Plan
    composer: str
    clauses: list[Clause] = field(default_factory=list)
    timings_ms: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        joiner = "" if self.plan.language == "zh" else " "
        return joiner.join(c.text for c in self.clauses)

    def to_json(self) -> dict[str, Any]:
        lang = self.plan.language
        return {
            "question": self.question,
            "answer": self.text,
            "language": lang,
            "status": self.plan.status,
            "reason": self.plan.reason,
            "product_ids": list(self.plan.product_ids),
            "candidates": list(self.plan.candidates),
            "facts": [
                {"id": f.id, "product_id": f.product_id, "text": f.line(lang), "statement": f.statement.get(lang)}
                for f in self.plan.facts
            ],
            "clauses": [{"text": c.text, "source": c.source} for c in self.clauses],
            "composer": self.composer,
            "timings_ms": self.timings_ms,
            **({"notes": self.notes} if self.notes else {}),
        }


class AnswerEngine:
    def __init__(self, knowledge: KnowledgeBase, composer: Composer | None = None):
        self.knowledge = knowledge
        self.composer: Composer = composer or CatalogComposer()
        self.planner = Planner(knowledge)

    def use(self, knowledge: KnowledgeBase) -> None:
        """Switch to a reloaded catalog (the next question uses it)."""
        self.knowledge, self.planner = knowledge, Planner(knowledge)

    def stream(
        self, question: str, on_stage: str | None = None, cancel: threading.Event | None = None
    ) -> Iterator[tuple[Answer, Clause]]:
        """Yields (answer so far, clause) as each clause is ready; the answer is complete at the end."""
        start = time.perf_counter()
        knowledge, planner = self.knowledge, self.planner
        plan = planner.plan(question, on_stage)
        planned = time.perf_counter()
        answer = Answer(question, plan, self.composer.name)
        ms = _since(start)
        answer.timings_ms = {"retrieval": ms(planned), "llm_first_token": None, "first_clause": None, "total": None}
        for clause in self.composer.compose(plan, knowledge, cancel):
            if not answer.clauses:
                answer.timings_ms["first_clause"] = ms(clause.at)
            answer.clauses.append(clause)
            yield answer, clause
        last = getattr(self.composer, "last", {})
        if last.get("llm_first_token"):
            answer.timings_ms["llm_first_token"] = ms(last["llm_first_token"])
        answer.notes = {k: v for k, v in last.items() if k in ("rejected", "completed") and v}
        answer.timings_ms["total"] = ms(time.perf_counter())

    def answer(self, question: str, on_stage: str | None = None) -> Answer:
        result = None
        for partial, _ in self.stream(question, on_stage):
            result = partial
        if result is None:  # nothing to say (cannot happen for a well-formed plan), keep the timings honest
            result = Answer(question, self.planner.plan(question, on_stage), self.composer.name)
        return result


def _since(start: float):  # type: ignore[no-untyped-def]
    return lambda t: round((t - start) * 1000, 1)
