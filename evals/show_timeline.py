"""A long show run, window by window: is it flat? (`livehost bench-show --minutes 60`, issues 13 and 15)

From what one viewer received and the server's RSS sampled all along, each window (5 minutes by
default) of the run gets: the questions asked in it and how many were answered, when their answers
began (p50/p95), the show's speaking share and longest silence, the lines the show said, and the
server's memory at the window's end. `flatness` compares the last windows with the first: what a
night without a person needs is that none of them drifts. `plot` draws it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.stats import percentile

SILENT_RMS = 0.01  # a 20 ms frame below this is silence


def windows(
    frames: list[tuple[float, float]],
    asked: list[tuple[float, float | None]],
    lines: list[float],
    rss: list[tuple[float, float]],
    begun: float,
    end: float,
    window_s: float,
) -> list[dict[str, Any]]:
    """Per window from `begun` to `end` (same clock for all inputs): `frames` (time, rms) heard,
    `asked` (time asked, answer-begins ms or None), `lines` the times of the show's lines, `rss`
    (time, MB) of the server."""
    out: list[dict[str, Any]] = []
    start = begun
    while start < end - 1e-6:
        stop = min(start + window_s, end)
        here = [(t, rms) for t, rms in frames if start <= t < stop]
        latencies = [ms for t, ms in asked if start <= t < stop and ms is not None]
        memory = [mb for t, mb in rss if start <= t < stop]
        out.append(
            {
                "from_min": round((start - begun) / 60, 2),
                "to_min": round((stop - begun) / 60, 2),
                "asked": sum(1 for t, _ in asked if start <= t < stop),
                "answered": len(latencies),
                "answer_begins_p50_ms": percentile(latencies, 50),
                "answer_begins_p95_ms": percentile(latencies, 95),
                "speaking_share": speaking_share(here),
                "longest_silence_s": longest_silence(here),
                "show_lines": sum(1 for t in lines if start <= t < stop),
                "rss_mb": memory[-1] if memory else None,
                "rss_low_mb": min(memory) if memory else None,  # what stays, without a synthesis's peak
                "rss_peak_mb": max(memory) if memory else None,
            }
        )
        start = stop
    return out


def speaking_share(frames: list[tuple[float, float]]) -> float | None:
    """The share of (time, rms) frames above the silence level; None when there are none."""
    return round(sum(rms >= SILENT_RMS for _, rms in frames) / len(frames), 3) if frames else None


def longest_silence(frames: list[tuple[float, float]]) -> float:
    """The longest run of silent frames, in seconds."""
    longest, run, last = 0.0, 0.0, None
    for t, rms in frames:
        run = 0.0 if rms >= SILENT_RMS else run + (t - last if last is not None else 0.0)
        longest, last = max(longest, run), t
    return round(longest, 2)


def flatness(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The first full window against the last: memory growth in MB, answer-begins p50 ratio, speaking
    share change; None where a window lacks the figure (a run shorter than two windows)."""
    full = [r for r in rows if r["to_min"] - r["from_min"] >= 0.99 * (rows[0]["to_min"] - rows[0]["from_min"])]
    if len(full) < 2:
        return {"windows": len(full), "rss_growth_mb": None, "p50_last_over_first": None, "speaking_share_change": None}
    first, last = full[0], full[-1]

    def diff(key: str, digits: int) -> float | None:
        return round(last[key] - first[key], digits) if last[key] is not None and first[key] is not None else None

    p50s = first["answer_begins_p50_ms"], last["answer_begins_p50_ms"]
    return {
        "windows": len(full),
        "rss_growth_mb": diff("rss_mb", 1),
        "p50_last_over_first": round(p50s[1] / p50s[0], 3) if all(p50s) else None,
        "speaking_share_change": diff("speaking_share", 3),
    }


def plot(
    rows: list[dict[str, Any]],
    rss: list[tuple[float, float]],
    asked: list[tuple[float, float | None]],
    title: str,
    path: Path,
) -> Path:
    """Three panels on one time axis (minutes of show): server RSS; when each answer began (dots) with
    the p50 and p95 of each window; the speaking share and the longest silence of each window."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 8.5), dpi=100, layout="constrained")
    ax_mem, ax_lat, ax_show = fig.subplots(3, 1, sharex=True)
    ax_mem.plot([t / 60 for t, _ in rss], [mb for _, mb in rss], color="#1f77b4", linewidth=1.2)
    ax_mem.set_ylabel("server RSS (MB)")
    ax_mem.set_ylim(bottom=0)
    mids = [(r["from_min"] + r["to_min"]) / 2 for r in rows]
    answered = [(t / 60, ms) for t, ms in asked if ms is not None]
    missed = [t / 60 for t, ms in asked if ms is None]
    if answered:
        ax_lat.plot(*zip(*answered, strict=True), ".", color="#7f7f7f", alpha=0.6, label="one question")
    if missed:
        ax_lat.plot(missed, [0] * len(missed), "x", color="#d62728", label="not answered")
    for key, color, label in (("answer_begins_p50_ms", "#2ca02c", "p50"), ("answer_begins_p95_ms", "#d62728", "p95")):
        points = [(m, r[key]) for m, r in zip(mids, rows, strict=True) if r[key] is not None]
        if points:
            ax_lat.plot(*zip(*points, strict=True), "-o", color=color, label=f"{label} per window")
    ax_lat.set_ylabel("answer begins (ms)")
    ax_lat.set_ylim(bottom=0)
    ax_lat.legend(loc="upper right", fontsize=8)
    shares = [(m, 100 * r["speaking_share"]) for m, r in zip(mids, rows, strict=True) if r["speaking_share"]]
    if shares:
        ax_show.plot(*zip(*shares, strict=True), "-o", color="#ff7f0e", label="speaking share (%)")
    ax_show.set_ylabel("speaking share (%)")
    ax_show.set_ylim(0, 100)
    ax_gap = ax_show.twinx()
    width = 0.3 * (rows[0]["to_min"] - rows[0]["from_min"]) if rows else 1.0
    gaps = [r["longest_silence_s"] for r in rows]
    ax_gap.bar(mids, gaps, width=width, color="#9467bd", alpha=0.5, label="longest silence (s)")
    ax_gap.set_ylabel("longest silence (s)")
    ax_show.set_xlabel("minutes of show")
    for ax in (ax_mem, ax_lat, ax_show):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.savefig(path)
    return path
