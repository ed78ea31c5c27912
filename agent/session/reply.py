"""A conversation's record of what was said: each message of its history, and an answer while it is under way."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from agent.engines import Cancel, Transcript
from agent.session.trace import TurnTrace


@dataclass
class Message:
    role: str  # viewer | agent
    text: str
    turn: int
    interrupted: bool = False


@dataclass
class Reply:
    """The agent's answer to one turn while it is being produced and played."""

    turn: TurnTrace
    audio: np.ndarray  # the viewer's speech this answers
    task: asyncio.Task[None] | None = None
    cancel: Cancel = field(default_factory=Cancel)
    early: asyncio.Task[Transcript] | None = None  # its transcript, begun in the pause the turn ended in
    queued: int = 0  # clauses handed to the playout and not yet fully played
    produced: bool = False  # the engine has yielded its last clause
    heard: list[str] = field(default_factory=list)
    language: str = "en"
    done: bool = False
    addressee: str | None = None  # the name the answer begins with
    duplicate: str = ""  # what was said instead, when another viewer's answer was this one's
