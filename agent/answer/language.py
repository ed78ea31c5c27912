"""What an answer says in the viewer's language, when the catalog is written in another.

The packaged language model cannot translate a seller's English prose faithfully (tried: it dropped a
"2 years on smart locks" and turned "not covered" round), so nothing is translated: a Chinese answer
says specs, prices and options in Chinese and leaves the English prose out whenever anything else
answers; only when that prose is the whole answer is it read as written.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from knowledge.facts import Fact
from knowledge.text import CJK

if TYPE_CHECKING:
    from agent.answer.plan import Plan

PROSE = frozenset({"description", "detail", "policy", "faq"})


def foreign(fact: Fact, lang: str) -> bool:
    """Prose the catalog has only in English, for a Chinese answer (Chinese text in an English answer
    is a name or the seller's own words, and stays)."""
    return lang == "zh" and fact.kind in PROSE and not CJK.search(fact.statement.get("zh"))


def in_language(plan: Plan) -> Plan:
    """The plan without English prose beside facts a Chinese answer can say in Chinese."""
    kept = tuple(f for f in plan.facts if not foreign(f, plan.language))
    return replace(plan, facts=kept) if kept and len(kept) < len(plan.facts) else plan
