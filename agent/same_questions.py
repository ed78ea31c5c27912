"""The same question from several viewers at about the same time gets one answer, not one each.

Everyone in a room hears every answer, so when a second viewer asks what another viewer's answer
is already giving (the same products, the same aspect), the agent does not say it all again: it
tells the second asker that the answer was theirs too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.answer.plan import Plan

WINDOW_S = 20.0  # about one answer's length, plus the time to ask


@dataclass(frozen=True)
class _Asked:
    key: tuple[object, ...]
    asker: str
    owner: object  # the conversation giving that answer
    at: float


class SameQuestions:
    def __init__(self, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.window_s, self.clock = window_s, clock
        self._asked: list[_Asked] = []

    def claim(self, owner: object, asker: str, plan: Plan) -> str | None:
        """Who is already being given this answer (their name), or None: then it is `asker`'s now."""
        if plan.status != "answered":
            return None  # "I don't know" and refusals are short: each asker gets their own
        now = self.clock()
        self._asked = [a for a in self._asked if now - a.at < self.window_s]
        key = (plan.product_ids, plan.aspect, plan.reason, plan.language)
        for asked in self._asked:
            if asked.key == key and asked.owner is not owner:
                return asked.asker
        self._asked.append(_Asked(key, asker, owner, now))
        return None


def same_question_reply(language: str, first: str | None) -> str:
    """What the agent says to the second asker instead of the whole answer again."""
    if language == "zh":
        return f"{first or '另一位观众'}刚问了同样的问题，刚才的回答也是给您的。"
    return f"{first or 'Another viewer'} just asked the same thing; that answer was for you too."
