"""Is what the listener heard right? The answer's audio, transcribed, checked against the scenario.

The harness does not take the agent's word for what it said: it transcribes the answer as received
(Whisper base, beam search, the turn's language, a one-line domain prompt) and grades that text.
Whisper base mishears some spoken numbers ("fourteen" as "40"), so where the agent also reports
its own text and the heard transcript agrees with it (80% of the characters), that text settles
the wording; where they disagree, only what was heard counts. Each turn says which happened.

A fact counts as said when its text appears (case, spacing and punctuation aside) or, for a fact
with numbers, when every one of its numbers was spoken ("14天" and "十四天" both say 14). The
answer's kind is read from what it says: the agent's "I don't know" and "I can only talk about
products" forms in both languages (`UNKNOWN`, `DECLINED`; another agent under test may need its
own phrases). A hallucination is a forbidden fact said, a number that appears nowhere in the
catalog, or a fact stated where the catalog has no answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from agent.answer.grounding import spoken_numbers
from knowledge.catalog import Catalog
from knowledge.text import compact

UNKNOWN = {
    "en": ("doesn't say", "does not say", "can't find", "cannot find", "don't know", "pass your question", "not sure"),
    "zh": ("没有写", "没有找到", "转给主播", "不知道", "不清楚", "没有相关"),
}
DECLINED = {
    "en": ("can only tell you what", "can't change prices", "can only help with our products", "only answer",
           "any question about our products"),
    "zh": ("只能按商品资料", "不能改价格", "只能回答商品", "商品问题都可以问我"),
}  # fmt: skip
SENTENCE_END = re.compile(r"[.!?。！？]")
OPENING_CHARS = 10


# the domain in one line: without it Whisper writes "199 yuan" as "199 U.N." or "$199,000"
PROMPT = {"en": "A shop's host answers: it costs 199 yuan.", "zh": "主播回答：这款现在199元。"}
AGREE = 0.8  # the share of characters a heard answer must have in common with the agent's text


@dataclass
class Verdict:
    heard: str  # the answer as transcribed at the listener
    kind: str  # answered | unknown | declined
    correct: bool
    hallucination: bool
    problems: list[str] = field(default_factory=list)
    agreed: bool = False  # the heard answer matched the agent's own text, which settled misheard words


def agreement(heard: str, said: str) -> float:
    """How much of the two texts is the same, 0..1, over their letters and digits."""
    import difflib

    return difflib.SequenceMatcher(None, compact(heard), compact(said), autojunk=False).ratio()


def kind_of(text: str) -> str:
    """answered | unknown | declined. A decline carries no facts, so its phrases count anywhere; "I don't
    know" counts only in the opening sentence, since an answer may end on a note that one detail is
    missing ("... 商品资料里没有写智能手表GT的这项信息" after the facts is still an answer)."""
    said = compact(text)
    if any(compact(m) in said for markers in DECLINED.values() for m in markers):
        return "declined"
    opening = ""
    for sentence in SENTENCE_END.split(text):  # a short "Sorry." / "抱歉。" joins the next sentence
        opening += compact(sentence)
        if len(opening) >= OPENING_CHARS:
            break
    if any(compact(m) in opening for markers in UNKNOWN.values() for m in markers):
        return "unknown"
    return "answered"


def says(text: str, fact: str) -> bool:
    if compact(fact) in compact(text):
        return True
    wanted = spoken_numbers(fact)
    return bool(wanted) and wanted <= spoken_numbers(text)


class Judge:
    def __init__(self, catalog: Catalog | None, hear: Callable[[np.ndarray, str], str] | None = None):
        """`hear(audio16k, language) -> text`; Whisper base unless given (the harness's tests give a fake)."""
        self.catalog = catalog
        self._hear = hear
        self._known_numbers: set[str] | None = None

    def hear(self, audio: np.ndarray, language: str) -> str:
        if self._hear is None:
            self._hear = _whisper(self.catalog)
        return self._hear(audio, language)

    def grade(
        self, heard: str, expect: str, facts: tuple[str, ...], forbid: tuple[str, ...], said: str | None = None
    ) -> Verdict:
        """`said`: the agent's own text of the answer, if it reports one. When the heard transcript agrees
        with it (`AGREE` of the characters), it settles what the judge's Whisper may have misheard (a
        spoken "fourteen" written "40"); when they disagree, only what was heard counts."""
        vouched = said if said and agreement(heard, said) >= AGREE else None
        text = heard if vouched is None else f"{heard} / {vouched}"
        kind = kind_of(heard)
        problems = [f"missing fact '{f}'" for f in facts if not says(text, f)]
        wanted = "answered" if expect in ("answer", "stop") else expect
        if expect != "transcribe" and kind != wanted:
            problems.append(f"heard a{'n' if kind[0] in 'aeiou' else ''} {kind} answer, expected {wanted}")
        # a false fact or a stray number must be in the agent's own text too, when it reports one: heard
        # alone it is the judge's mishearing as often as not (and a voice misreading digits is rare)
        false = [f for f in forbid if says(heard, f) and (not said or says(said, f))]
        problems += [f"said '{f}', which is not true" for f in false]
        if kind != "answered":
            stray: set[str] = set()
        elif said:
            stray = self._stray_numbers(said) & (spoken_numbers(said) if vouched else spoken_numbers(heard))
        else:
            stray = self._stray_numbers(heard)
        problems += [f"numbers not in the catalog: {', '.join(sorted(stray))}"] if stray else []
        hallucination = bool(false or stray) or (wanted in ("unknown", "declined") and kind == "answered")
        return Verdict(heard, kind, not problems, hallucination, problems, vouched is not None)

    def _stray_numbers(self, text: str) -> set[str]:
        if self.catalog is None:
            return set()
        if self._known_numbers is None:
            from evals.faq import catalog_numbers

            self._known_numbers = catalog_numbers(self.catalog, tuple(p.id for p in self.catalog.products))
        # small counts ("two ports", "第1") are everyday words; a stray price or spec has two digits or more
        return {n for n in spoken_numbers(text) - self._known_numbers if len(n) > 1}


def _whisper(catalog: Catalog | None) -> Callable[[np.ndarray, str], str]:
    """Plain Whisper base with beam search: no hot words (a catalog prompt makes it loop on names) and
    no voice activity filter; Chinese in simplified characters, product names put back by sound."""
    from faster_whisper import WhisperModel

    from agent.asr.lexicon import Lexicon, catalog_terms
    from agent.asr.recognizer import resolve_whisper
    from knowledge.text import to_simplified

    model = WhisperModel(resolve_whisper(None), device="cpu", compute_type="int8", cpu_threads=2)
    lexicon = Lexicon(catalog_terms(catalog)) if catalog is not None else None

    def hear(audio: np.ndarray, language: str) -> str:
        found, _ = model.transcribe(
            audio, language=language, beam_size=5, condition_on_previous_text=False, initial_prompt=PROMPT[language]
        )
        text = "".join(s.text for s in found).strip()
        if language == "zh":
            text = to_simplified(text)
            text = lexicon.correct(text) if lexicon is not None else text
        return text

    return hear
