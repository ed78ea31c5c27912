"""Plots of an evaluation report: latency CDF, per-stage breakdown, and barge-in timelines as PNG files.

Drawn on the Agg canvas through `matplotlib.figure.Figure`, so nothing touches pyplot's global state
and no display is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from evals.compare import run_label

SIZE_IN = (12.0, 7.0)
DPI = 110  # 1320 x 770 px
# in the order they happen; together they add up to voice-to-voice (evals/analysis.py)
STAGES = (
    ("endpointing", "endpointing"),
    ("asr", "ASR"),
    ("llm_first_sentence", "LLM first clause"),
    ("tts", "TTS"),
    ("playout_wait", "playout wait"),
    ("transport", "transport (rest)"),
)
STAGE_COLORS = ("#4c72b0", "#55a868", "#c44e52", "#8172b2", "#937860", "#ccb974")
CDF_MARKERS = (("p50", 0.50, "o", 9), ("p90", 0.90, "s", 9), ("p95", 0.95, "^", 7))  # p95 small: on top of p90
EVENT_COLORS = ("#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
USER_COLOR, AGENT_COLOR, SPEECH_COLOR = "#1f77b4", "#ff7f0e", "#7f7f7f"
COLUMNS = 1200  # envelope points across the waveform panels, about one per pixel column


@dataclass
class Timeline:
    """One barge-in as both sides heard it, for the timeline plot."""

    title: str  # e.g. "barge-in: bi-03 (interrupt 900 ms into the answer)"
    rate: int  # sample rate of both tracks
    start_s: float  # session time of sample 0 of the tracks
    user: np.ndarray  # viewer's microphone as sent (float32)
    agent: np.ndarray  # agent audio as received by the viewer (float32), same length/clock as user
    user_segments: list[tuple[float, float]]  # speech found by VAD, session seconds
    agent_segments: list[tuple[float, float]]
    events: list[tuple[float, str]]  # e.g. (12.3, "interruption onset"), (12.55, "agent last heard")


def write_plots(report: dict[str, Any], out: Path, timelines: Sequence[Timeline] = ()) -> list[Path]:
    """Write the report's plots into `out` and return their paths.

    latency-cdf.png is always written (saying "no data" when no turn was timed); stages.png only when
    some run has stage timings; barge-in-N.png for the N-th timeline (from 1) unless both its tracks are empty.
    """
    out.mkdir(parents=True, exist_ok=True)
    runs = report.get("runs") or []
    caption = _caption(report.get("meta") or {})
    written = [_save(_latency_cdf(runs, caption), out / "latency-cdf.png")]
    stages = _stages(runs, caption)
    if stages is not None:
        written.append(_save(stages, out / "stages.png"))
    for n, timeline in enumerate(timelines, 1):
        if len(timeline.user) or len(timeline.agent):
            written.append(_save(_barge_in(timeline), out / f"barge-in-{n}.png"))
    return written


def envelope(samples: np.ndarray, columns: int = COLUMNS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centre sample index, min, max) of consecutive blocks, at most `columns` blocks: a waveform fast to draw."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected a mono track (1-D), got shape {samples.shape}")
    if not len(samples):
        return np.zeros(0), np.zeros(0, np.float32), np.zeros(0, np.float32)
    block = max(1, math.ceil(len(samples) / columns))
    padded = np.pad(samples, (0, -len(samples) % block), mode="edge").reshape(-1, block)
    centres = np.arange(len(padded)) * block + (block - 1) / 2
    return centres, padded.min(axis=1), padded.max(axis=1)


def _caption(meta: dict[str, Any]) -> str:
    parts = [meta.get("date"), meta.get("transport"), meta.get("machine")]
    return " · ".join(str(p) for p in parts if p)


def _figure(title: str, caption: str, rows: int = 1, height: float = SIZE_IN[1]) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(SIZE_IN[0], height), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    fig.suptitle(title + (f"\n{caption}" if caption else ""), fontsize=13)
    return fig, list(axes)


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def _no_data(ax: Axes) -> None:
    ax.text(
        0.5,
        0.5,
        "no data: no turn has a voice-to-voice time",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=20,
        color="grey",
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _latency_cdf(runs: list[dict[str, Any]], caption: str) -> Figure:
    fig, (ax,) = _figure("Voice-to-voice latency per turn (empirical CDF)", caption)
    drawn = False
    for run in runs:
        values = [t["voice_to_voice_ms"] for t in run.get("turns") or [] if t.get("voice_to_voice_ms") is not None]
        if not values:
            continue
        stats = ((run.get("summary") or {}).get("voice_to_voice_ms")) or {}
        marks = [(name, marker, size, stats.get(name)) for name, _, marker, size in CDF_MARKERS]
        shown = " · ".join(f"{name} {value:.0f}" for name, _, _, value in marks if value is not None)
        label = f"{run_label(run)} (n={len(values)})" + (f": {shown} ms" if shown else "")
        line = ax.ecdf(values, label=label, linewidth=2)
        ordered = np.sort(values)
        for _, marker, size, value in marks:
            if value is not None:
                reached = np.searchsorted(ordered, value, side="right") / len(ordered)
                ax.plot([value], [reached], marker=marker, markersize=size, color=line.get_color(), linestyle="none")
        drawn = True
    if not drawn:
        _no_data(ax)
        return fig
    for name, q, _, _ in CDF_MARKERS:
        ax.axhline(q, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            name,
            (1, q),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            color="grey",
        )
    shapes = [Line2D([], [], marker=m, color="black", linestyle="none", label=name) for name, _, m, _ in CDF_MARKERS]
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *shapes], loc="lower right")
    ax.set_xlabel("voice-to-voice latency (ms): end of viewer speech to first agent audio heard")
    ax.set_ylabel("share of turns at or below")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.grid(True, alpha=0.3)
    return fig


def _stages(runs: list[dict[str, Any]], caption: str) -> Figure | None:
    """p50 stage bars per run, or None when no run has any stage timing."""
    rows = []
    for run in runs:
        summary = run.get("summary") or {}
        stage_stats = summary.get("stages_ms") or {}
        p50s = [((stage_stats.get(key) or {}).get("p50")) for key, _ in STAGES]
        v2v = (summary.get("voice_to_voice_ms") or {}).get("p50")
        rows.append((run_label(run), p50s, v2v))
    if not any(value is not None for _, p50s, _ in rows for value in p50s):
        return None
    fig, (ax,) = _figure(
        "Where the time goes: p50 of each stage per run, against p50 voice-to-voice",
        caption,
        height=max(SIZE_IN[1], 2.5 + 0.8 * len(rows)),
    )
    widest = max(max(sum(v or 0 for v in p50s), v2v or 0) for _, p50s, v2v in rows)
    labels = []
    for y, (label, p50s, v2v) in enumerate(rows):
        left = 0.0
        for color, value in zip(STAGE_COLORS, p50s, strict=True):
            if not value:
                continue
            ax.barh(y, value, left=left, height=0.6, color=color, edgecolor="white")
            if value > 0.05 * widest:
                ax.text(left + value / 2, y, f"{value:.0f}", ha="center", va="center", color="white", fontsize=10)
            left += value
        if v2v is not None:
            if v2v > left:
                ax.barh(y, v2v - left, left=left, height=0.6, color="none", edgecolor="grey", hatch="//")
            ax.plot([v2v], [y], marker="D", markersize=10, color="black", linestyle="none")
            ax.annotate(f"{v2v:.0f} ms", (v2v, y), xytext=(8, 8), textcoords="offset points", fontsize=10)
        missing = [name for (_, name), value in zip(STAGES, p50s, strict=True) if value is None]
        labels.append(label + (f"\nno data: {', '.join(missing)} (counted as 0)" if missing else ""))
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.12 or 1)
    ax.set_xlabel("time (ms), p50 of each stage, stacked")
    ax.grid(True, axis="x", alpha=0.3)
    handles: list[Artist] = [
        Patch(color=color, label=name) for (_, name), color in zip(STAGES, STAGE_COLORS, strict=True)
    ]
    handles += [
        Patch(facecolor="none", edgecolor="grey", hatch="//", label="not explained by the stages"),
        Line2D([], [], marker="D", color="black", linestyle="none", label="voice-to-voice p50"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


def _barge_in(timeline: Timeline) -> Figure:
    if timeline.rate <= 0:
        raise ValueError(f"{timeline.title}: sample rate must be positive, got {timeline.rate}")
    fig, (top, bottom) = _figure(timeline.title, "", rows=2)
    end_s = timeline.start_s + max(len(timeline.user), len(timeline.agent)) / timeline.rate
    panels = (
        (top, timeline.user, timeline.user_segments, USER_COLOR, "viewer microphone (as sent)"),
        (bottom, timeline.agent, timeline.agent_segments, AGENT_COLOR, "agent audio (as the viewer received it)"),
    )
    for ax, track, segments, color, name in panels:
        centres, low, high = envelope(track)
        seconds = timeline.start_s + centres / timeline.rate
        ax.fill_between(seconds, low, high, color=color, linewidth=0.6)
        peak = float(max(np.abs(low).max(initial=0), np.abs(high).max(initial=0)))
        ax.set_ylim(-max(peak, 0.05) * 1.1, max(peak, 0.05) * 1.1)
        for start, stop in segments:
            start, stop = max(start, timeline.start_s), min(stop, end_s)
            if start < stop:  # light shading behind the waveform, a solid strip along the top above it
                ax.axvspan(start, stop, color=SPEECH_COLOR, alpha=0.15, linewidth=0, zorder=0)
                ax.axvspan(start, stop, ymin=0.96, color=SPEECH_COLOR, linewidth=0, zorder=3)
        ax.set_title(name, loc="left", fontsize=11)
        ax.set_ylabel("amplitude (full scale)")
        ax.grid(True, alpha=0.3)
    events = sorted(timeline.events)
    handles: list[Artist] = [
        Patch(color=USER_COLOR, label="viewer waveform"),
        Patch(color=AGENT_COLOR, label="agent waveform"),
        Patch(color=SPEECH_COLOR, label="speech found by VAD (strip on top)"),
    ]
    for i, (at, name) in enumerate(events):
        color = EVENT_COLORS[i % len(EVENT_COLORS)]
        for ax in (top, bottom):
            ax.axvline(at, color=color, linestyle="--", linewidth=1.5)
        offset = f" (+{(at - events[0][0]) * 1000:.0f} ms)" if i else ""
        handles.append(Line2D([], [], color=color, linestyle="--", label=f"{name}: {at:.2f} s{offset}"))
    bottom.set_xlim(timeline.start_s, end_s)
    bottom.set_xlabel("session time (s)")
    fig.legend(handles=handles, loc="outside right upper")
    return fig
