"""Turning a plan into spoken clauses: from catalog sentences, or phrased by the language model.

`CatalogComposer` speaks the facts' own sentences. `ModelComposer` lets the LLM phrase the answer
from the plan's facts, checks every clause before it is released, and falls back to the catalog
sentences when a clause fails or when the model leaves a fact out. Both yield `Clause`s as soon
as each is ready, so speech can start on the first one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from agent.answer.clauses import ClauseSplitter, split_text
from agent.answer.grounding import NEGATION, GroundingCheck, opening, spoken_numbers
from agent.answer.plan import Plan
from agent.answer.replies import missing_note, statements
from agent.answer.screening import screen
from agent.engines import ChatStream
from knowledge.base import KnowledgeBase
from knowledge.facts import Fact
from knowledge.text import compact

MAX_CLAUSES = 6


@dataclass(frozen=True)
class Clause:
    text: str
    source: str  # model | catalog
    at: float  # perf_counter when it was ready


class CatalogComposer:
    name = "catalog"

    def compose(self, plan: Plan, knowledge: KnowledgeBase, cancel: threading.Event | None = None) -> Iterator[Clause]:
        for sentence in statements(plan, knowledge.catalog):
            for text in split_text(sentence):
                if cancel is not None and cancel.is_set():
                    return
                yield Clause(text, "catalog", time.perf_counter())


SYSTEM_PROMPT = """You are the AI host of an online shop's live stream. You answer a viewer's spoken question.
Rules:
- Use ONLY the facts given with the question.
- Never add a number, spec, price, promise or opinion that is not in the facts.
- Copy numbers and units exactly as written in the facts.
- If a fact says "no" or "not supported", say no clearly.
- Answer in the language requested, in 1 or 2 short spoken sentences. No lists, no markdown, no greetings.

Example:
Facts:
- SmartBand X2 battery life: 14 days
Question: how long does the band last on one charge
Language: English
Answer: The SmartBand X2 lasts 14 days on a single charge.

Example:
Facts:
- SmartBand X2 NFC: no
- SmartBand X2 NFC Edition NFC: yes
Question: 手环能刷公交卡吗
Language: Chinese
Answer: 智能手环X2标准版不支持NFC，NFC版支持。

Example:
Facts:
- Buds Air3 water resistance: IPX4
Question: 这个耳机防水吗
Language: Chinese
Answer: Buds Air3的防水等级是IPX4。"""


def prompt_for(plan: Plan, knowledge: KnowledgeBase) -> str:
    lang = plan.language
    lines = []
    for fact in plan.facts:
        subject = knowledge.catalog.product(fact.product_id).spoken.get(lang) if fact.product_id else ""
        lines.append(f"- {subject} {fact.line(lang)}".replace("-  ", "- "))
    language = "Chinese" if lang == "zh" else "English"
    return "Facts:\n" + "\n".join(lines) + f"\nQuestion: {plan.question.strip()}\nLanguage: {language}\nAnswer:"


def anchors(fact: Fact, lang: str) -> set[str]:
    """What must be heard for a fact to count as said: its numbers, else its short value."""
    value = fact.value.get(lang)
    found = spoken_numbers(value)
    if found:
        return found
    short = compact(value)
    return {short} if len(short) <= 12 and fact.kind == "spec" and fact.polarity is None else set()


def covered(fact: Fact, lang: str, said: str) -> bool:
    """Whether what was said conveys the fact: its numbers/value, and its yes or no the right way round."""
    if not compact(said):
        return False  # silence says neither yes nor no
    if compact(fact.statement.get(lang)) in compact(said):
        return True
    need = anchors(fact, lang)
    heard = spoken_numbers(said) | {compact(said)}
    values_ok = all(a in heard or any(a in h for h in heard) for a in need)
    if fact.polarity is not None:
        return values_ok and bool(NEGATION.search(opening(said).lower())) == (fact.polarity is False)
    if not need:
        return fact.kind not in ("faq", "policy", "description")
    return values_ok


def model_may_phrase(plan: Plan) -> bool:
    """Whether the model can phrase the plan without a chance to attach a number to the wrong fact.

    A small model reading "single 8 h, 36 h with the case" or two products' figures will pair a
    right number with the wrong thing, and no check on the text alone can see that. So the model
    phrases only answers where every fact carries at most one number and no number is shared.
    """
    if len(plan.product_ids) > 1:
        return False
    owners: dict[str, int] = {}
    for i, fact in enumerate(plan.facts):
        found = set().union(*(spoken_numbers(v) for v in fact.value.variants()))
        if len(found) > 1:
            return False
        for n in found:
            if owners.setdefault(n, i) != i:
                return False
    return True


class ModelComposer:
    name = "model"

    def __init__(self, model: ChatStream, max_new_tokens: int = 80):
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.last: dict[str, object] = {}

    def warm(self) -> None:
        self.model.warm(SYSTEM_PROMPT)

    def probe(self, tries: int = 3) -> float:
        """Milliseconds this model takes to a first speakable clause on a typical answer.

        The first pass pays one-off costs (kernel selection, allocation), so the best of the rest counts.
        """
        user = (
            "Facts:\n- SmartBand X2 battery life: 14 days\nQuestion: how long does it last\nLanguage: English\nAnswer:"
        )
        times = []
        for _ in range(tries):
            start = time.perf_counter()
            splitter = ClauseSplitter()
            stop = threading.Event()
            for piece in self.model.stream(SYSTEM_PROMPT, user, max_new_tokens=24, cancel=stop):
                if splitter.feed(piece):
                    break
            stop.set()
            times.append((time.perf_counter() - start) * 1000)
        return min(times[1:] or times)

    def compose(self, plan: Plan, knowledge: KnowledgeBase, cancel: threading.Event | None = None) -> Iterator[Clause]:
        self.last = {"rejected": None, "completed": False, "llm_first_token": None}
        if plan.status != "answered" or not model_may_phrase(plan):
            yield from CatalogComposer().compose(plan, knowledge, cancel)
            return
        check = GroundingCheck(plan, knowledge.catalog, knowledge.resolver)
        stop = threading.Event()
        splitter = ClauseSplitter()
        said: list[str] = []
        stream = self.model.stream(
            SYSTEM_PROMPT, prompt_for(plan, knowledge), max_new_tokens=self.max_new_tokens, cancel=stop
        )
        try:
            for piece in stream:
                if self.last["llm_first_token"] is None:
                    self.last["llm_first_token"] = time.perf_counter()
                if cancel is not None and cancel.is_set():
                    stop.set()
                    return
                for text in splitter.feed(piece):
                    if not self._accept(text, check, said):
                        stop.set()
                        break
                    said.append(text)
                    yield Clause(text, "model", time.perf_counter())
                if stop.is_set() or len(said) >= MAX_CLAUSES:
                    break
            else:
                for text in splitter.flush():
                    if self._accept(text, check, said):
                        said.append(text)
                        yield Clause(text, "model", time.perf_counter())
        finally:
            stop.set()
            close = getattr(stream, "close", None)
            if close:
                close()
        yield from self._complete(plan, knowledge, " ".join(said), cancel)

    def _accept(self, text: str, check: GroundingCheck, said: list[str]) -> bool:
        verdict = check.check(text) if said else check.check_opening(text)
        if not verdict.ok:
            self.last["rejected"] = f"{text!r}: {verdict.reason}"
            return False
        if screen(text) is not None:  # the model repeating a manipulation back
            self.last["rejected"] = f"{text!r}: repeats a declined request"
            return False
        return True

    def _complete(
        self, plan: Plan, knowledge: KnowledgeBase, said: str, cancel: threading.Event | None
    ) -> Iterator[Clause]:
        """Speak, from the catalog, every planned fact the model did not get across."""
        lang = plan.language
        for fact in plan.facts:
            if cancel is not None and cancel.is_set():
                return
            if not covered(fact, lang, said):
                self.last["completed"] = True
                for text in split_text(fact.statement.get(lang)):
                    said += " " + text
                    yield Clause(text, "catalog", time.perf_counter())
        note = missing_note(plan, knowledge.catalog)
        if note and (cancel is None or not cancel.is_set()):
            yield Clause(note, "catalog", time.perf_counter())
