"""Spoken turns from recorded files: `livehost talk` (one question) and `livehost converse` (a track).

Both replay the viewer's audio into a real conversation at its real pace and measure from the two
recorded tracks what a listener would: voice-to-voice from the true end of the question's speech
(read off the recording, not the agent's VAD) to the first audible answer sample, and for a
barge-in the time from the interruption's onset to the last audible agent sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.audio import RATE, voiced_span
from agent.session.conversation import Conversation, Stages
from agent.session.trace import TurnTrace
from agent.transports.replay import Recording, replay
from agent.turns.options import TurnOptions


@dataclass(frozen=True)
class Measured:
    """A turn's trace plus the figures taken at the listener."""

    trace: TurnTrace
    speech_end: float | None  # clock time of the true end of the question's speech
    heard_first: float | None
    interruption_onset: float | None = None
    heard_last_after_onset: float | None = None

    def timings_ms(self) -> dict[str, float | None]:
        t = self.trace.events

        def ms(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else round((b - a) * 1000, 1)

        figures = self.trace.timings_ms()
        figures["endpointing"] = ms(self.speech_end, t.get("vad_end"))
        figures["transport"] = ms(t.get("audio_out_first"), self.heard_first)
        figures["voice_to_voice"] = ms(self.speech_end, self.heard_first)
        if self.interruption_onset is not None:
            figures["barge_in_stop"] = ms(self.interruption_onset, self.heard_last_after_onset)
        return figures

    def to_json(self) -> dict[str, Any]:
        data = self.trace.to_json()
        data["timings_ms"] = self.timings_ms()
        del data["events"]
        return data


def measure(conversation: Conversation, recording: Recording) -> list[Measured]:
    """Listener-side figures for every turn of a replayed conversation."""
    measured = []
    turns = conversation.turns
    for k, turn in enumerate(turns):
        e = turn.events
        next_vad_end = turns[k + 1].events.get("vad_end") if k + 1 < len(turns) else None
        speech_end = _true_speech_end(recording, e.get("speech_start_vad"), e.get("vad_end"))
        heard = recording.first_heard(e["audio_out_first"], next_vad_end) if "audio_out_first" in e else None
        onset = last = None
        if turn.interrupted and "interruption_onset" in e:
            onset = _true_onset(recording, e["interruption_onset"])
            last = recording.last_heard(onset - 1.0, next_vad_end or e.get("interrupted"))
            last = max(last, onset) if last is not None else onset
        measured.append(Measured(turn, speech_end, heard, onset, last))
    return measured


def _true_speech_end(recording: Recording, start: float | None, vad_end: float | None) -> float | None:
    """The last loud viewer sample of a turn, searched from its VAD onset to its end decision."""
    if start is None or vad_end is None:
        return None
    step = RATE // 50
    begin = max(0, int((start - recording.start - 0.5) * RATE))
    end = min(len(recording.viewer), int((vad_end - recording.start) * RATE) + step)
    first, last = voiced_span(recording.viewer[begin:end], RATE)
    return recording.start + (begin + last) / RATE if last else None


def _true_onset(recording: Recording, vad_onset: float) -> float:
    """The first loud viewer sample near the VAD's estimate of an interruption's onset."""
    begin = max(0, int((vad_onset - recording.start - 0.3) * RATE))
    end = min(len(recording.viewer), int((vad_onset - recording.start + 0.5) * RATE))
    first, last = voiced_span(recording.viewer[begin:end], RATE, below_peak_db=30.0)
    return recording.start + (begin + first) / RATE if last else vad_onset


async def converse(
    stages: Stages, viewer: np.ndarray, options: TurnOptions | None = None, tail_s: float = 1.0
) -> tuple[Conversation, Recording, list[Measured]]:
    conversation = Conversation(stages, options)
    conversation.start()
    try:
        recording = await replay(conversation, viewer, tail_s=tail_s)
    finally:
        await conversation.close()
    return conversation, recording, measure(conversation, recording)


def talk_report(measured: list[Measured], recording: Recording) -> dict[str, Any]:
    """One question's result: the answered turn (the last one with words) and its timings."""
    spoken = [m for m in measured if m.trace.status not in ("ignored", "cancelled", "merged")] or measured
    if not spoken:
        return {"transcript": "", "language": None, "answer": "", "status": "no_speech", "timings_ms": {}}
    main = spoken[-1]
    t = main.trace
    return {
        "transcript": t.transcript,
        "language": t.language,
        "answer": t.heard or t.answer,
        "status": t.status,
        "timings_ms": main.timings_ms(),
        "turns": len(measured),
    }


def answer_audio(recording: Recording) -> np.ndarray:
    """The agent's track from its first audible sample on (what `talk --out` writes)."""
    loud = np.flatnonzero(np.abs(recording.agent) > 10 ** (-50 / 20))
    return recording.agent[int(loud[0]) :] if len(loud) else recording.agent[:0]
