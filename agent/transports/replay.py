"""Playing a recorded viewer track into a conversation at its real pace, recording the agent's track.

This is the offline transport behind `livehost talk`, `livehost converse` and the benchmark: the
viewer's audio goes in frame by frame on the real clock, and every frame of agent audio that would
have been played comes back placed at the moment it would have been heard. Both tracks therefore
share one sample clock and any timing (voice-to-voice, barge-in stop) can be read off them exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agent.audio import RATE
from agent.session.conversation import Conversation

FRAME_MS = 20
AUDIBLE = 10 ** (-50 / 20)  # a sample above -50 dBFS is agent speech, below is silence


@dataclass(frozen=True)
class Recording:
    """Both sides of a replayed conversation on one clock: sample 0 of each track is clock time `start`."""

    viewer: np.ndarray  # 16 kHz
    agent: np.ndarray  # at `agent_rate`
    agent_rate: int
    start: float

    def viewer_time(self, sample: int) -> float:
        """Clock time at which a viewer sample reached the agent (its 20 ms frame was delivered whole)."""
        step = RATE * FRAME_MS // 1000
        return self.start + -(-sample // step) * FRAME_MS / 1000

    def agent_time(self, sample: int) -> float:
        return self.start + sample / self.agent_rate

    def agent_sample(self, at: float) -> int:
        return max(0, int(round((at - self.start) * self.agent_rate)))

    def first_heard(self, after: float, before: float | None = None) -> float | None:
        """Clock time of the first audible agent sample in [after, before)."""
        end = len(self.agent) if before is None else self.agent_sample(before)
        loud = np.flatnonzero(np.abs(self.agent[self.agent_sample(after) : end]) > AUDIBLE)
        return self.agent_time(self.agent_sample(after) + int(loud[0])) if len(loud) else None

    def last_heard(self, after: float, before: float | None = None) -> float | None:
        """Clock time just after the last audible agent sample in [after, before)."""
        begin = self.agent_sample(after)
        end = len(self.agent) if before is None else self.agent_sample(before)
        loud = np.flatnonzero(np.abs(self.agent[begin:end]) > AUDIBLE)
        return self.agent_time(begin + int(loud[-1]) + 1) if len(loud) else None


async def replay(
    conversation: Conversation,
    viewer: np.ndarray,
    *,
    tail_s: float = 1.0,
    max_tail_s: float = 30.0,
    viewer_next: Callable[[int, np.ndarray], np.ndarray | None] | None = None,
    hold: Callable[[], bool] | None = None,
) -> Recording:
    """Feeds `viewer` (16 kHz float32) in real time; returns both tracks as they were heard.

    After the viewer's audio ends, silence is fed until the agent has been idle for `tail_s`, or
    for `max_tail_s` at most after the viewer's last sound. `viewer_next(frame_index,
    last_agent_frame)` may supply more viewer audio on the fly (a scripted listener that reacts to
    the agent, e.g. interrupts it); it returns the samples to append to the viewer track, or None.
    While `hold()` is true the replay goes on.
    """
    clock = conversation.clock
    step = RATE * FRAME_MS // 1000
    out_step = conversation.playout.rate * FRAME_MS // 1000
    viewer = viewer.astype(np.float32, copy=False)
    heard: list[np.ndarray] = [np.zeros(out_step, dtype=np.float32)]  # a frame read at tick i plays after it
    start = clock()
    i, idle_frames, tail_frames = 0, 0, 0
    while True:
        if viewer_next is not None:
            more = viewer_next(i, heard[-1])
            if more is not None and len(more):  # it starts now, after any silence since the track ended
                gap = np.zeros(max(0, i * step - len(viewer)), dtype=np.float32)
                viewer = np.concatenate([viewer, gap, more.astype(np.float32)])
        if i * step < len(viewer):
            tail_frames = 0
        else:
            tail_frames += 1
            idle_frames = 0 if conversation.busy or (hold is not None and hold()) else idle_frames + 1
            if idle_frames * FRAME_MS >= tail_s * 1000 or tail_frames * FRAME_MS >= max_tail_s * 1000:
                break
        frame = viewer[i * step : (i + 1) * step]
        if len(frame) < step:
            frame = np.concatenate([frame, np.zeros(step - len(frame), dtype=np.float32)])
        due = start + (i + 1) * FRAME_MS / 1000
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        conversation.hear(frame, due)
        heard.append(conversation.play(out_step))
        i += 1
        await asyncio.sleep(0)  # let the conversation's tasks run between frames
    track = np.zeros(i * step, dtype=np.float32)
    track[: min(len(viewer), len(track))] = viewer[: len(track)]
    return Recording(track, np.concatenate(heard)[: i * out_step], conversation.playout.rate, start)
