"""The same question from several viewers at about the same time gets one answer, not one each.

Everyone in a room hears every answer, so when a second viewer asks, while another viewer's answer
is being given, for the same thing (the same products, the same aspect), the agent does not say it
all again: it tells the second asker that the answer was theirs too. Once an answer has ended, the
same question is answered afresh (the asker may not have heard it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.answer.plan import Plan

GRACE_S = 3.0  # a question asked while an answer played may be processed just after it ended


@dataclass
class _Asked:
    key: tuple[object, ...]
    asker: str
    owner: object  # the conversation giving that answer
    done: float | None = None  # when that answer finished playing


class SameQuestions:
    def __init__(self, grace_s: float = GRACE_S, clock: Callable[[], float] = time.monotonic):
        self.grace_s, self.clock = grace_s, clock
        self._asked: list[_Asked] = []

    def claim(self, owner: object, asker: str, plan: Plan) -> str | None:
        """Who is being given this answer right now (their name), or None: then it is `asker`'s now."""
        if plan.status != "answered":
            return None  # "I don't know" and refusals are short: each asker gets their own
        now = self.clock()
        self._asked = [a for a in self._asked if a.done is None or now - a.done < self.grace_s]
        key = (plan.product_ids, plan.aspect, plan.reason, plan.language)
        for asked in self._asked:
            if asked.key == key and asked.owner is not owner:
                return asked.asker
        self._asked.append(_Asked(key, asker, owner))
        return None

    def finished(self, owner: object) -> None:
        """`owner`'s answer is over (played or cut): later askers get their own answer."""
        now = self.clock()
        for asked in self._asked:
            if asked.owner is owner and asked.done is None:
                asked.done = now

    def forget(self, owner: object) -> None:
        """`owner` has left the room."""
        self._asked = [a for a in self._asked if a.owner is not owner]


def same_question_reply(language: str, first: str | None) -> str:
    """What the agent says to the second asker instead of the whole answer again."""
    if language == "zh":
        return f"{first or '另一位观众'}刚问了同样的问题，刚才的回答也是给您的。"
    return f"{first or 'Another viewer'} just asked the same thing; that answer was for you too."
