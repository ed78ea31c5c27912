"""Where there is sound in a recorded track: an energy detector with hysteresis, streaming or offline.

The harness finds the agent's speech in what the listener received with it (the agent's voice is
clean, and silence between answers is digital silence or codec noise far below the threshold). A
segment opens when 10 ms windows stay at or above `threshold_db` for `min_sound_ms` and closes
after `min_quiet_ms` below `threshold_db - hysteresis_db`; both edges are dated back to the first
and last loud window, so the confirmation delay does not bias the timings. Pauses between the
clauses of one answer (about 120 ms) stay inside one segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW_S = 0.01


@dataclass(frozen=True)
class Segment:
    start: float  # seconds on the session clock
    end: float

    def overlap(self, other: Segment) -> float:
        return max(0.0, min(self.end, other.end) - max(self.start, other.start))


class Activity:
    """Feed samples with `push`; `segments` holds every closed segment, `speaking` the open one."""

    def __init__(
        self,
        rate: int,
        threshold_db: float = -45.0,
        hysteresis_db: float = 6.0,
        min_sound_ms: float = 50.0,
        min_quiet_ms: float = 250.0,
    ):
        self.rate = rate
        self.hop = int(rate * WINDOW_S)
        self.open_level = 10 ** (threshold_db / 20)
        self.keep_level = 10 ** ((threshold_db - hysteresis_db) / 20)
        self.min_sound = round(min_sound_ms / 1000 / WINDOW_S)
        self.min_quiet = round(min_quiet_ms / 1000 / WINDOW_S)
        self.segments: list[Segment] = []
        self.onsets: list[float] = []  # confirmed onsets, dated back; for anchors that wait on the agent
        self._pending = np.zeros(0, dtype=np.float32)
        self._window = 0
        self._run = 0  # loud windows in a row while closed
        self._start: int | None = None  # first window of the open segment
        self._last_loud = 0

    @property
    def speaking(self) -> bool:
        return self._start is not None

    def onset_since(self, t: float) -> float | None:
        """The first onset at or after `t` (session seconds), if any."""
        return next((onset for onset in self.onsets if onset >= t), None)

    @property
    def last_end(self) -> float:
        return self.segments[-1].end if self.segments else 0.0

    def push(self, samples: np.ndarray) -> None:
        data = np.concatenate([self._pending, samples.astype(np.float32)])
        whole = len(data) - len(data) % self.hop
        if whole:
            rms = np.sqrt(np.mean(np.square(data[:whole].reshape(-1, self.hop), dtype=np.float64), axis=1))
            for level in rms:
                self._step(float(level))
        self._pending = data[whole:]

    def close(self) -> list[Segment]:
        """End of the track: an open segment ends at its last loud window."""
        if self._start is not None:
            self.segments.append(Segment(self._start * WINDOW_S, (self._last_loud + 1) * WINDOW_S))
            self._start = None
        return self.segments

    def _step(self, level: float) -> None:
        w = self._window
        self._window += 1
        if self._start is None:
            self._run = self._run + 1 if level >= self.open_level else 0
            if self._run >= self.min_sound:
                self._start, self._last_loud = w - self._run + 1, w
                self.onsets.append(self._start * WINDOW_S)
            return
        if level >= self.keep_level:
            self._last_loud = w
        elif w - self._last_loud >= self.min_quiet:
            self.segments.append(Segment(self._start * WINDOW_S, (self._last_loud + 1) * WINDOW_S))
            self._start, self._run = None, 0


def segments(samples: np.ndarray, rate: int, **tuning: float) -> list[Segment]:
    detector = Activity(rate, **tuning)
    detector.push(samples)
    return detector.close()


@dataclass(frozen=True)
class BargeInStop:
    """How the agent's speech ended when a viewer talked over it (latency.md, barge-in)."""

    under_way: Segment | None  # the agent's speech at the interruption's onset (None: it was silent)
    ms: float | None  # its last sound - the onset; None when nothing was under way
    resumed: bool  # it spoke again while the viewer was still talking


def barge_in_stop(found: list[Segment], onset: float, end: float, eps: float = 1e-6) -> BargeInStop:
    """The one definition of the barge-in stop, for `livehost bench` and the dialogue harness alike:
    the end of the agent's sound under way at the `onset` of the interrupting speech, minus that onset;
    a resume is agent sound starting again before the interruption's speech `end`."""
    under_way = next((s for s in found if s.start <= onset + eps < s.end), None)
    if under_way is None:
        return BargeInStop(None, None, False)
    resumed = any(under_way.end < s.start < end for s in found)
    return BargeInStop(under_way, round((under_way.end - onset) * 1000, 1), resumed)
