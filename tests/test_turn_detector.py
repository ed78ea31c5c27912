"""The detector's early signal (issue 17): a pause offers the turn's audio as it will end there, and
speech after it withdraws the offer."""

from __future__ import annotations

import numpy as np
from test_conversation import LoudnessVAD, silence, speech

from agent.audio import RATE
from agent.turns.detector import SpeechPaused, SpeechResumed, TurnDetector, TurnEnded
from agent.turns.options import TurnOptions


def _events(audio: np.ndarray, completion: float, **options: float) -> list[object]:
    detector = TurnDetector(LoudnessVAD(), TurnOptions(**options), completion=lambda a: completion)
    events: list[object] = []
    step = int(0.02 * RATE)
    for i in range(0, len(audio), step):
        events += detector.feed(audio[i : i + step], (i + step) / RATE)
    return events


def test_a_pause_offers_exactly_the_audio_the_turn_then_ends_with() -> None:
    for completion in (0.9, 0.1):  # ends at the short pause (complete) or the long one
        events = _events(np.concatenate([silence(0.3), speech(1.0), silence(1.5)]), completion)
        kinds = [type(e).__name__ for e in events]
        assert kinds == ["SpeechStarted", "SpeechPaused", "TurnEnded"], kinds
        paused, ended = events[1], events[2]
        assert isinstance(paused, SpeechPaused) and isinstance(ended, TurnEnded)
        assert np.array_equal(paused.audio, ended.audio)
        assert ended.reason == ("complete" if completion > 0.5 else "pause")


def test_speech_after_the_pause_withdraws_it_and_the_turn_ends_with_more_audio() -> None:
    events = _events(np.concatenate([silence(0.3), speech(0.6), silence(0.4), speech(0.8), silence(1.5)]), 0.1)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["SpeechStarted", "SpeechPaused", "SpeechResumed", "SpeechPaused", "TurnEnded"], kinds
    assert isinstance(events[2], SpeechResumed)
    first, last, ended = events[1], events[3], events[4]
    assert len(first.audio) < len(last.audio) == len(ended.audio)  # type: ignore[attr-defined]


def test_no_early_offer_when_it_is_switched_off_or_for_a_click() -> None:
    assert not any(
        isinstance(e, SpeechPaused)
        for e in _events(np.concatenate([silence(0.3), speech(1.0), silence(1.5)]), 0.9, speculate_after_ms=0)
    )
    click = _events(np.concatenate([silence(0.3), speech(0.12), silence(1.0)]), 0.9)
    assert not any(isinstance(e, SpeechPaused | TurnEnded) for e in click), click
