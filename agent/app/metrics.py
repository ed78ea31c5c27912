"""What a running agent reports for an unattended night: Prometheus metrics and one log line per turn.

Every finished spoken turn and every typed answer passes through `Metrics`; `/metrics` renders the
counters, the latency histograms per stage and the gauges (viewers, conversations, memory) in the
Prometheus text format, and the `livehost.turn` logger writes the turn as one structured record
whose `turn` id ties the question to its answer.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger("livehost.turn")
# seconds; a spoken answer's stages run from a few ms (first clause) to seconds (voice-to-voice on a CPU)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
STAGES = ("endpointing", "asr", "llm_first_token", "llm_first_sentence", "tts", "playout_wait", "server_response")


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        for i, edge in enumerate(BUCKETS):
            if seconds <= edge:
                self.counts[i] += 1
        self.total += seconds
        self.n += 1


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.histograms: dict[tuple[str, tuple[tuple[str, str], ...]], Histogram] = {}
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        with self._lock:
            self.counters[(name, tuple(sorted(labels.items())))] += amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        with self._lock:
            key = (name, tuple(sorted(labels.items())))
            self.histograms.setdefault(key, Histogram()).observe(seconds)

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """A value read when scraped (viewers in the room, conversations, memory)."""
        self.gauges[name] = (help_text, read)

    def observe_turn(self, turn: dict[str, Any]) -> None:
        """A spoken turn is over: count it, time its stages, and log it as one record."""
        status = str(turn.get("status") or "unknown")
        self.count("livehost_turns_total", status=status)
        if turn.get("interrupted"):
            self.count("livehost_barge_ins_total")
        for stage, ms in (turn.get("timings_ms") or {}).items():
            if stage in STAGES and isinstance(ms, (int, float)):
                self.observe("livehost_turn_stage_seconds", ms / 1000, stage=stage)
        log.info(
            "turn %s %s",
            turn.get("id"),
            status,
            extra={"turn": turn.get("id"), "record": {k: turn.get(k) for k in TURN_FIELDS}},
        )

    def observe_answer(self, answer: dict[str, Any], channel: str) -> None:
        """A typed question answered (the JSON API, the chat): count it and time its first clause."""
        self.count("livehost_questions_total", status=str(answer.get("status")), channel=channel)
        first = (answer.get("timings_ms") or {}).get("first_clause")
        if isinstance(first, (int, float)):
            self.observe("livehost_answer_first_clause_seconds", first / 1000, channel=channel)

    def error(self, where: str) -> None:
        self.count("livehost_errors_total", where=where)

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        with self._lock:
            counters = dict(self.counters)
            histograms = {k: (list(h.counts), h.total, h.n) for k, h in self.histograms.items()}
        for name in sorted({n for n, _ in counters}):
            lines.append(f"# TYPE {name} counter")
            lines += [f"{name}{_labels(lb)} {v:g}" for (n, lb), v in sorted(counters.items()) if n == name]
        for name in sorted({n for n, _ in histograms}):
            lines.append(f"# TYPE {name} histogram")
            for (n, lb), (counts, total, count) in sorted(histograms.items()):
                if n != name:
                    continue
                for edge, c in zip(BUCKETS, counts, strict=True):
                    lines.append(f"{name}_bucket{_labels((*lb, ('le', f'{edge:g}')))} {c}")
                lines.append(f"{name}_bucket{_labels((*lb, ('le', '+Inf')))} {count}")
                lines.append(f"{name}_sum{_labels(lb)} {total:.6f}")
                lines.append(f"{name}_count{_labels(lb)} {count}")
        for name, (help_text, read) in sorted(self.gauges.items()):
            try:
                value = float(read())
            except Exception:  # a gauge that cannot be read is left out, never a failed scrape
                continue
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


TURN_FIELDS = ("id", "transcript", "language", "answer", "heard", "status", "interrupted", "end_reason", "timings_ms")


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    escaped = (f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels)
    return "{" + ",".join(escaped) + "}"


def resident_bytes() -> float:
    """The process's resident memory (Linux /proc; 0 where it cannot be read)."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return float(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        return 0.0


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and a turn's id and record when it has one."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("turn", "record"):
            if hasattr(record, field):
                out[field] = getattr(record, field)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)
