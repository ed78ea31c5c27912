"""How a conversation answers in a room: one object the room owns and the conversation reads.

A conversation alone with one listener (the PCM socket, a replayed track) uses the defaults. In
the live room (agent/rtc/agent_participant.py) the agent keeps one `RoomRules` per listener and
changes it as people come and go and as the seller changes the show's state; the conversation
reads it at each turn and never sets it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.answer.plan import Plan


@dataclass
class RoomRules:
    on_stage: str | None = None  # the product the seller is showing, if any
    addressee: str | None = None  # with several askers in the room, answers begin with this name
    aloud: bool = True  # False (a muted agent): answers are prepared as text only, nothing is played
    # the name of whoever is already being given this answer (None: answer it), see same_questions.py
    claim: Callable[[Plan], str | None] | None = None
    # for speech that is not all questions (the host's): the question in a transcript, or None
    accepts: Callable[[str], str | None] | None = None
