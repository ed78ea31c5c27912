"""Latency statistics: always percentiles, never a mean alone."""

from __future__ import annotations

import math
from typing import Any

YIELD_WITHIN_MS = 2000.0  # latency.md: a barge-in is yielded to when the agent stops within 2 s


def yielded(stop_ms: float | None, resumed: bool = False, within_ms: float = YIELD_WITHIN_MS) -> bool:
    """The one definition of a yield, for `livehost bench` and the dialogue harness alike: the agent
    stopped within `within_ms` of the viewer's onset and did not talk on while the viewer spoke."""
    return stop_ms is not None and stop_ms <= within_ms and not resumed


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of the values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def share(values: list[Any], digits: int = 4) -> float | None:
    """The share of true values (None when there are none)."""
    return round(sum(1 for v in values if v) / len(values), digits) if values else None


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    d = distribution(values)
    return {"n": d["count"], "p50": d["p50"], "p90": d["p90"], "p95": d["p95"], "max": d["max"]}


def distribution(values: list[float]) -> dict[str, float | int | None]:
    """The percentiles of `percentiles`, with the count, minimum and mean (for the evaluation reports)."""
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "min": round(min(values), 1) if values else None,
        "max": round(max(values), 1) if values else None,
        "mean": round(sum(values) / len(values), 1) if values else None,
    }
