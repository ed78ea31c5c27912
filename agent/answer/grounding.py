"""Checking generated clauses against the facts of the plan before they are spoken.

A small model invents numbers and flips yes/no answers. Each clause it writes is checked:
every number (digits, Chinese numerals, English number words) must occur in the facts, a
negation or a "yes" must agree with the facts, no other product may be named, and no price
talk may appear without a price fact. A clause that fails is never spoken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.answer.plan import Plan
from knowledge.catalog import Catalog
from knowledge.resolve import ProductResolver
from knowledge.text import CJK, NUMBER, compact, numbers

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
# a lone Chinese digit counts as a number only before a unit ("一年" yes, "一下" no)
CN_MEASURE = re.compile(r"^(天|小时|元|块|克|年|月|次|档|台|寸|瓦|倍|周|分钟|秒|毫安|米|级|折|人|位)")
_EN_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty"
)
EN_NUMBERS = {w: i for i, w in enumerate(_EN_WORDS.split())}
EN_NUMBERS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90})
EN_NUMBERS.update({"hundred": 100, "thousand": 1000})
EN_NUMBER_WORD = re.compile(r"\b(" + "|".join(EN_NUMBERS) + r")\b")
NEGATION = re.compile(
    r"\b(no|not|doesn't|does not|don't|do not|can't|cannot|isn't|is not|won't|without|lack|lacks)\b"
    r"|不|没有|没|无法|暂无|并无|否"
)
AFFIRMATION_START = re.compile(r"^\s*(yes|yeah|sure|of course|absolutely|可以|是的|支持|当然|能)", re.IGNORECASE)
# "lighter than", "更轻", "最长": a comparison the facts do not state as such, and one the model gets backwards
COMPARATIVE = re.compile(
    r"\b\w+er than\b|\b(more|less|better|worse|longer|shorter|bigger|smaller|lighter|heavier|cheaper|faster|"
    r"slower|best|most|least)\b|比|更|最"
)
PRICE_TALK = re.compile(r"元|块钱|yuan|rmb|¥|\$|免费|free|% ?off|打折|折扣|discount|优惠", re.IGNORECASE)


def cn_to_int(text: str) -> int:
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
        else:
            section += (digit or 1) * CN_UNITS[ch]
            digit = 0
    return total + section + digit


def spoken_numbers(text: str) -> set[str]:
    """Every number a listener would hear in `text`, as canonical digit strings."""
    found = {_canon(n) for n in numbers(text)}
    for m in CN_NUMERAL.finditer(text):
        run = m.group(0)
        if len(run) == 1 and run not in CN_UNITS and not CN_MEASURE.match(text[m.end() :]):
            continue
        if set(run) <= set(CN_UNITS):
            continue  # "千万" (by all means), "万" alone
        found.add(str(cn_to_int(run)))
    for m in EN_NUMBER_WORD.finditer(text.lower()):
        if m.group(1) not in ("one", "zero"):
            found.add(str(EN_NUMBERS[m.group(1)]))
    return found


def _canon(number: str) -> str:
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number


UNIT = re.compile(r"\s*([A-Za-z%°]+|[\u4e00-\u9fff])?")
OPENING_END = re.compile(r"[,，。!！?？]|\.(?=\s|$)")  # "5.3" does not end a clause


def opening(text: str) -> str:
    """The first clause of an answer: where a listener hears its yes or no."""
    return OPENING_END.split(text, maxsplit=1)[0]


def units(text: str) -> dict[str, set[str]]:
    """For each number, the units written right after it ("65 W" -> {"65": {"w"}}; "14天" -> {"14": {"天"}})."""
    out: dict[str, set[str]] = {}
    for m in NUMBER.finditer(text):
        unit = UNIT.match(text, m.end())
        out.setdefault(_canon(m.group(0).replace(",", "")), set()).add((unit.group(1) or "").lower() if unit else "")
    return out


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


class GroundingCheck:
    def __init__(self, plan: Plan, catalog: Catalog, resolver: ProductResolver):
        self.plan = plan
        self.resolver = resolver
        texts = [t for f in plan.facts for t in (*f.value.variants(), *f.statement.variants(), *f.label.variants())]
        texts += [t for pid in plan.product_ids for t in catalog.product(pid).name.variants()]
        self.allowed_numbers = set().union(*(spoken_numbers(t) for t in texts)) if texts else set()
        self.negation_allowed = any(
            f.polarity is False or NEGATION.search(" ".join(f.value.variants()).lower()) for f in plan.facts
        )
        self.only_negative = any(f.polarity is False for f in plan.facts) and not any(f.polarity for f in plan.facts)
        self.price_allowed = any(
            f.kind in ("price", "variants") or PRICE_TALK.search(" ".join(f.value.variants())) for f in plan.facts
        )
        self.fact_text = compact(" ".join(texts))
        self._values = [t for f in plan.facts for t in f.value.variants()]
        # a label may hold a comparative word ("最大负载功率", "max load"): saying it compares nothing
        self._labels = sorted({t.lower() for f in plan.facts for t in f.label.variants()}, key=len, reverse=True)
        self.units: dict[str, set[str]] = {}
        for text in self._values:
            for number, found in units(text).items():
                self.units.setdefault(number, set()).update(found)

    def check_opening(self, clause: str) -> Verdict:
        """The first clause must also give the main fact's yes or no the right way round."""
        primary = self.plan.facts[0] if self.plan.facts else None
        if primary is not None and primary.polarity is not None:
            negative = bool(NEGATION.search(clause.lower()))
            if negative != (primary.polarity is False):
                return Verdict(False, f"opens with {'no' if negative else 'yes'}, the catalog says the opposite")
        return self.check(clause)

    def check(self, clause: str) -> Verdict:
        lowered = clause.lower()
        extra = spoken_numbers(clause) - self.allowed_numbers
        if extra:
            return Verdict(False, f"number not in the catalog facts: {', '.join(sorted(extra))}")
        unlabelled = lowered
        for label in self._labels:
            unlabelled = unlabelled.replace(label, " ")
        if COMPARATIVE.search(unlabelled) and not COMPARATIVE.search(" ".join(t.lower() for t in self._values)):
            return Verdict(False, "compares where the facts only give values")
        for number, said in units(clause).items():
            written = self.units.get(number, set())
            if said - {""} and written and not (said - {""}) & written:
                return Verdict(False, f"unit of {number} differs from the catalog ({'/'.join(sorted(written))})")
        if NEGATION.search(lowered) and not self.negation_allowed:
            return Verdict(False, "negation not supported by the facts")
        if AFFIRMATION_START.match(clause) and self.only_negative:
            return Verdict(False, "says yes where the catalog says no")
        if PRICE_TALK.search(clause) and not self.price_allowed:
            return Verdict(False, "talks about price without a price fact")
        others = [p for p in self.resolver.mentioned(clause) if p not in self.plan.product_ids]
        if others:
            return Verdict(False, f"names another product: {', '.join(others)}")
        has_cjk = bool(CJK.search(clause))
        if self.plan.language == "en" and has_cjk and not CJK.search(self.fact_text):
            return Verdict(False, "Chinese text in an English answer")
        if self.plan.language == "en" and has_cjk and len(CJK.findall(clause)) > 4:
            return Verdict(False, "Chinese text in an English answer")
        if self.plan.language == "zh" and not has_cjk:
            return Verdict(False, "English text in a Chinese answer")
        return Verdict(True)
