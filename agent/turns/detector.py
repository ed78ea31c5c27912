"""The viewer's side of turn-taking: when a turn starts and ends, and when speech interrupts the agent.

Fed with the viewer's audio as it arrives, it turns per-window speech probabilities into events.
A turn ends after a short pause when the end-of-turn model hears a complete sentence, and after a
longer pause otherwise. While the agent is speaking, voiced audio first *pauses* the agent
(`InterruptionStarted`, fast: a viewer must hear it stop at once) and only becomes a real
interruption once it lasts like speech (`InterruptionConfirmed`); a cough, a clap or a short
"嗯" ends before that and `InterruptionDismissed` lets the agent resume. What an interruption
cancels is not decided here (see `Conversation.interrupt`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agent.audio import RATE
from agent.engines import SpeechProbabilities
from agent.turns.options import TurnOptions


@dataclass(frozen=True)
class SpeechStarted:
    onset: float  # clock time of the first voiced window


@dataclass(frozen=True)
class InterruptionStarted:
    onset: float


@dataclass(frozen=True)
class InterruptionConfirmed:
    onset: float


@dataclass(frozen=True)
class InterruptionDismissed:
    onset: float
    voiced_ms: float


@dataclass(frozen=True)
class PartialAudio:
    audio: np.ndarray  # the turn so far, for a streaming transcript


@dataclass(frozen=True)
class SpeechPaused:
    audio: np.ndarray  # the turn as `TurnEnded` will carry it if the turn ends in this pause


@dataclass(frozen=True)
class SpeechResumed:
    """The viewer went on after a `SpeechPaused`: what was begun from it will not be the turn."""


@dataclass(frozen=True)
class TurnEnded:
    audio: np.ndarray  # 16 kHz float32, from a little before the onset to the end of speech
    onset: float
    speech_end: float  # clock time of the end of the last voiced window
    completion: float | None  # the end-of-turn model's probability, when it was asked
    reason: str  # complete | pause | max_length


TurnEvent = (
    SpeechStarted
    | InterruptionStarted
    | InterruptionConfirmed
    | InterruptionDismissed
    | PartialAudio
    | SpeechPaused
    | SpeechResumed
    | TurnEnded
)
TRAILING_MS = 160.0  # silence kept at the end of a turn's audio (more only costs recognition time)


class TurnDetector:
    def __init__(
        self,
        vad: SpeechProbabilities,
        options: TurnOptions | None = None,
        completion: Callable[[np.ndarray], float] | None = None,
    ):
        self.vad = vad
        self.options = options or TurnOptions()
        self.completion = completion
        self.agent_speaking = False  # set by the conversation while agent audio is playing
        self._pending = np.zeros(0, dtype=np.float32)  # fed but not yet covered by a VAD window
        self._window = int(RATE * self.vad.window_ms / 1000)
        self._preroll: deque[np.ndarray] = deque(maxlen=max(1, int(self.options.preroll_ms / self.vad.window_ms)))
        self._reset_turn()

    def _reset_turn(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._run_ms = 0.0  # consecutive voiced time before the turn starts
        self._onset: float | None = None
        self._speaking = False
        self._voiced_ms = 0.0
        self._silence_ms = 0.0
        self._speech_end = 0.0
        self._asked: float | None = None  # completion probability asked at this pause
        self._interruption: float | None = None  # onset of an unconfirmed interruption
        self._confirmed = False
        self._since_partial_ms = 0.0
        self._paused = False  # a SpeechPaused was sent in this pause

    @property
    def in_turn(self) -> bool:
        return self._speaking

    def reset(self) -> None:
        self.vad.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._preroll.clear()
        self._reset_turn()

    def feed(self, samples: np.ndarray, at: float) -> list[TurnEvent]:
        """Audio that arrived with its last sample at clock time `at`; returns what it means."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        probabilities = self.vad.feed(samples)
        events: list[TurnEvent] = []
        total = len(self._pending)
        for i, p in enumerate(probabilities):
            window, self._pending = self._pending[: self._window], self._pending[self._window :]
            end = at - (total - (i + 1) * self._window) / RATE  # the last fed sample arrived at `at`
            events.extend(self._step(p, window, end))
        return events

    def _step(self, p: float, window: np.ndarray, end: float) -> list[TurnEvent]:
        o, ms = self.options, self.vad.window_ms
        voiced = p >= o.speech_threshold or (self._speaking and self._silence_ms == 0 and p >= o.silence_threshold)
        if not self._speaking:
            self._preroll.append(window)
            if not voiced:
                self._run_ms = 0.0
                self._onset = None
                return []
            if self._onset is None:
                self._onset = end - ms / 1000
            self._run_ms += ms
            if self._run_ms < min(o.min_speech_ms, o.min_interruption_ms):
                return []
            self._speaking = True
            self._chunks = list(self._preroll)
            self._voiced_ms = self._run_ms
            self._speech_end = end
            events: list[TurnEvent] = [SpeechStarted(self._onset)]
            if self.agent_speaking:
                self._interruption = self._onset
                events.append(InterruptionStarted(self._onset))
            return events
        self._chunks.append(window)
        events = []
        if voiced:
            if self._paused:
                self._paused = False
                events.append(SpeechResumed())
            self._voiced_ms += ms
            self._silence_ms = 0.0
            self._asked = None
            self._speech_end = end
            self._since_partial_ms += ms
            if self._interruption is not None and not self._confirmed and self._voiced_ms >= o.confirm_interruption_ms:
                self._confirmed = True
                events.append(InterruptionConfirmed(self._interruption))
            if o.partial_every_ms and self._since_partial_ms >= o.partial_every_ms:
                self._since_partial_ms = 0.0
                events.append(PartialAudio(self._audio()))
            if self._voiced_ms >= o.max_turn_ms:
                events.append(self._end(None, "max_length"))
            return events
        self._silence_ms += ms
        if self._interruption is not None and not self._confirmed:
            if self._silence_ms >= o.dismiss_silence_ms:
                onset, voiced_ms = self._interruption, self._voiced_ms
                self._reset_turn()
                return [InterruptionDismissed(onset, voiced_ms)]
            return []
        if self._silence_ms >= o.end_silence_ms and self._voiced_ms < o.min_turn_ms:
            self._reset_turn()  # a click or a breath
            return []
        events = []
        speculate = o.speculate_after_ms > 0 and self._voiced_ms >= o.min_turn_ms
        if speculate and not self._paused and self._silence_ms >= max(o.speculate_after_ms, TRAILING_MS):
            self._paused = True
            events.append(SpeechPaused(self._trimmed()))
        if self._silence_ms >= o.end_silence_ms and self._asked is None:
            self._asked = self.completion(self._audio()) if self.completion else -1.0
            if self._asked >= o.completion_threshold:
                return [*events, self._end(self._asked, "complete")]
        if self._silence_ms >= o.max_end_silence_ms:
            asked = self._asked if self._asked is not None and self._asked >= 0 else None
            return [*events, self._end(asked, "pause")]
        return events

    def _audio(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)

    def _trimmed(self) -> np.ndarray:
        """The turn's audio up to `TRAILING_MS` after the last voiced window."""
        cut = int((self._silence_ms - min(self._silence_ms, TRAILING_MS)) / 1000 * RATE)
        audio = self._audio()
        return audio[: len(audio) - cut] if cut else audio

    def _end(self, completion: float | None, reason: str) -> TurnEnded:
        ended = TurnEnded(self._trimmed(), self._onset or self._speech_end, self._speech_end, completion, reason)
        self._preroll.clear()
        self._reset_turn()
        return ended
