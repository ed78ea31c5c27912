"""A scripted voice agent on the session's virtual clock: the harness's own yardstick.

It behaves by fixed rules, so every figure the harness reports about it is known in advance:
a turn ends `endpoint_ms` after the viewer's sound stops (sounds shorter than `min_speech_ms` are
not turns), the answer's first audio is sent `respond_ms` later and reaches the listener
`link_ms` after that; it is `answer_ms` of tone (answer k at 300 + 100 k Hz, so a fake judge can
tell answers apart). Sound for `barge_in_ms` while it answers stops it at once; shorter sounds do
not. Its turn records carry the stage timings those rules imply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.audio import RATE
from evals.session import STEP, Clock, Heard, Said

LOUD = 10 ** (-45 / 20)


@dataclass
class FakeAgent:
    endpoint_ms: float = 300.0
    respond_ms: float = 400.0
    link_ms: float = 40.0
    answer_ms: float = 3000.0
    barge_in_ms: float = 200.0
    min_speech_ms: float = 300.0
    transcripts: list[str] = field(default_factory=list)  # what it "hears" in each turn, in order
    name: str = "fake"
    flushes_on_clear: bool = False

    def __post_init__(self) -> None:
        self.clock: Clock | None = None
        self.items: list[Heard | Said] = []
        self.sound_ms = 0.0  # the viewer's current run of sound
        self.quiet_ms = 0.0
        self.in_turn = False
        self.answer: np.ndarray | None = None
        self.answer_at = 0.0  # when its first frame is sent
        self.sent = 0  # samples of the answer sent
        self.answers = 0
        self.frames: dict[str, np.ndarray] = {}
        self.viewers = 1

    async def open(self, viewers: list[str], clock: Clock) -> None:
        self.clock, self.viewers = clock, len(viewers)

    async def send(self, viewer: str, frame: np.ndarray) -> None:
        """Called once per viewer per 20 ms; it acts once all viewers' frames of that instant are in."""
        self.frames[viewer] = frame
        if len(self.frames) < self.viewers:
            return
        assert self.clock is not None
        now = self.clock.now()
        mixed = np.sum(list(self.frames.values()), axis=0)
        self.frames = {}
        self._listen(now, float(np.sqrt(np.mean(np.square(mixed)))) >= LOUD)
        self._speak(now)

    def _listen(self, now: float, loud: bool) -> None:
        if loud:
            self.sound_ms += STEP * 1000 / RATE
            self.quiet_ms = 0.0
            if self.answer is not None and self.sound_ms >= self.barge_in_ms:
                self.answer = None
                self.items.append(Said(now, {"type": "clear", "reason": "barge-in"}))
            if self.sound_ms >= self.min_speech_ms:
                self.in_turn = True
            return
        self.sound_ms = 0.0
        if not self.in_turn:
            return
        self.quiet_ms += STEP * 1000 / RATE
        if self.quiet_ms >= self.endpoint_ms:
            self.in_turn = False
            text = self.transcripts[self.answers] if self.answers < len(self.transcripts) else ""
            self.items.append(Said(now, {"type": "transcript", "role": "user", "text": text, "final": True}))
            self._prepare(now)

    def _prepare(self, now: float) -> None:
        n = int(self.answer_ms * RATE / 1000)
        t = np.arange(n) / RATE
        self.answer = (0.1 * np.sin(2 * np.pi * (300 + 100 * self.answers) * t)).astype(np.float32)
        self.answer_at, self.sent = now + self.respond_ms / 1000, 0
        self.answers += 1

    def _speak(self, now: float) -> None:
        if self.answer is None or now + 1e-9 < self.answer_at:
            return
        chunk = self.answer[self.sent : self.sent + STEP]
        self.items.append(Heard(now + self.link_ms / 1000, chunk))
        self.sent += len(chunk)
        if self.sent >= len(self.answer):
            self.answer = None
            self.items.append(Said(now + self.link_ms / 1000, self.record()))

    def record(self) -> dict[str, Any]:
        r = self.respond_ms
        timings = {"endpointing": self.endpoint_ms, "asr": r / 2, "llm_first_sentence": r / 4, "tts": r / 4,
                   "playout_wait": 0.0, "server_response": r}  # fmt: skip
        return {"type": "turn", "turn": self.answers, "heard": f"answer {self.answers}", "timings_ms": timings}

    async def chat(self, viewer: str, text: str) -> None:
        assert self.clock is not None
        self._prepare(self.clock.now())

    def drain(self) -> list[Heard | Said]:
        items, self.items = self.items, []
        return items

    async def close(self) -> None:
        pass
