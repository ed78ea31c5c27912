"""Every turn-taking threshold in one place: when speech counts, when a turn ends, what interrupts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TurnOptions:
    # speech detection (Silero probability per 32 ms window, with hysteresis)
    speech_threshold: float = 0.5
    silence_threshold: float = 0.35
    min_speech_ms: float = 96.0  # voiced time before a viewer counts as speaking
    preroll_ms: float = 320.0  # audio kept from before the onset, so the first syllable reaches the ASR
    # end of turn
    end_silence_ms: float = 256.0  # pause after which the end-of-turn model is asked
    completion_threshold: float = 0.5  # the model's "sentence is complete" probability to end the turn there
    max_end_silence_ms: float = 960.0  # pause that ends a turn whatever the model thinks
    min_turn_ms: float = 192.0  # shorter voiced sounds (a click, a breath) are not a turn
    max_turn_ms: float = 20000.0  # a monologue is cut into turns this long
    # barge-in: a viewer talking over the agent
    min_interruption_ms: float = 128.0  # voiced time that pauses the agent at once
    confirm_interruption_ms: float = 544.0  # voiced time that makes it a real interruption (coughs, "嗯" are shorter)
    dismiss_silence_ms: float = 560.0  # a pause this long ends an unconfirmed interruption (the agent resumes);
    # shorter, and "Wait, ..." resumed the agent in the pause after "Wait"
    # the turn's final transcript is begun at the first pause this long (the turn's audio as it will be
    # if the turn ends there), while the end of turn is still being decided; 0: only once it has ended
    speculate_after_ms: float = 160.0
    # streaming transcripts while the viewer speaks
    partial_every_ms: float = 0.0  # 0: no partial transcripts; else at most one per this much new speech
