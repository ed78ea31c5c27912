"""The record of one spoken turn: what was heard and said, and when each stage happened.

Every event is a reading of one monotonic clock (`time.monotonic`, seconds), named as in
`shared/docs/latency.md`. The stage figures derive from them; the listener-side figures
(`heard_first`, voice-to-voice) are added by whoever listens (`livehost talk`, the benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# (figure, from event, to event): the per-stage breakdown of latency.md
STAGES = (
    ("endpointing", "speech_end_vad", "vad_end"),
    ("asr", "vad_end", "asr_final"),
    ("llm_first_token", "asr_final", "llm_first_token"),
    ("llm_first_sentence", "asr_final", "llm_first_sentence"),
    ("tts", "llm_first_sentence", "tts_first_audio"),
    ("playout_wait", "tts_first_audio", "audio_out_first"),
    ("server_response", "vad_end", "audio_out_first"),
)


@dataclass
class TurnTrace:
    id: int
    events: dict[str, float] = field(default_factory=dict)
    transcript: str = ""
    language: str = ""
    answer: str = ""  # everything the agent prepared to say
    heard: str = ""  # what was actually played to the viewer
    status: str = ""  # answered | unknown | declined | ignored (no words) | cancelled | merged (into the next turn)
    # | duplicate (another viewer was just given this answer)
    interrupted: bool = False
    end_reason: str = ""  # complete | pause | max_length
    completion: float | None = None
    partials: list[str] = field(default_factory=list)
    products: tuple[str, ...] = ()  # the products the answer was about (or the question, when unknown)

    def mark(self, event: str, at: float) -> None:
        """Record an event once: the first time it happens is the one that counts."""
        self.events.setdefault(event, at)

    def timings_ms(self) -> dict[str, float | None]:
        def span(start: str, end: str) -> float | None:
            if start in self.events and end in self.events:
                return round((self.events[end] - self.events[start]) * 1000, 1)
            return None

        return {name: span(start, end) for name, start, end in STAGES}

    def to_json(self) -> dict[str, Any]:
        return {
            "turn": self.id,
            "transcript": self.transcript,
            "language": self.language,
            "answer": self.answer,
            "heard": self.heard,
            "status": self.status,
            "interrupted": self.interrupted,
            "end_reason": self.end_reason,
            "completion": None if self.completion is None else round(self.completion, 3),
            "partials": self.partials,
            "products": list(self.products),
            "timings_ms": self.timings_ms(),
            "events": dict(self.events),
        }
