"""Two evaluation reports side by side: which metrics got better, which got worse, per run.

Runs are matched by (suite, condition). Every metric is a flat name from `flatten`, the same names
that a suite's assertions use ("p90_voice_to_voice_ms <= 1500").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_PREFIX = "livehost.eval/"
PERCENTILES = ("p50", "p90", "p95", "max")
STAGE_PERCENTILES = ("p50", "p90", "p95")
LOWER_IS_BETTER = {
    "false_yields",
    "missed_responses",
    "spurious_responses",
    "talk_overs",
    "hallucinations",
    "wer",
}  # and every *_ms metric
HIGHER_IS_BETTER = {"yield_rate", "answer_accuracy", "turns_passed"}
CONTEXT = {"turns", "distractions"}  # and every count_* metric
MS_TOLERANCE = 0.5
TOLERANCE = 1e-9
DIRECTION_ORDER = {"worse": 0, "better": 1, "n/a": 2, "same": 3}


@dataclass(frozen=True)
class Difference:
    run: str  # "suite / condition"
    metric: str  # flat name, e.g. "p90_voice_to_voice_ms"
    a: float | None
    b: float | None
    change: float | None  # b - a
    direction: str  # "better" | "worse" | "same" | "n/a"


def run_label(run: dict[str, Any]) -> str:
    return f"{run.get('suite', '?')} / {run.get('condition', '?')}"


def load_report(path: Path) -> dict[str, Any]:
    """A report.json, checked to be an evaluation report; ValueError naming the file and the reason otherwise."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        report = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not valid JSON (not UTF-8 text)") from None
    if not isinstance(report, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(report).__name__}")
    schema = report.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
        raise ValueError(f"{path}: schema is {schema!r}, expected '{SCHEMA_PREFIX}N' (not an evaluation report)")
    return report


def flatten(summary: dict[str, Any]) -> dict[str, float | None]:
    """Flat metric names of a run summary.

    A stats dict such as 'voice_to_voice_ms' gives p50_voice_to_voice_ms, p90_, p95_, max_ and count_;
    'stages_ms' gives p50_stages_<stage>_ms, p90_ and p95_; numeric scalars (or null) keep their name.
    """
    flat: dict[str, float | None] = {}
    for name, value in summary.items():
        if name == "stages_ms" and isinstance(value, dict):
            for stage, stats in value.items():
                for p in STAGE_PERCENTILES:
                    flat[f"{p}_stages_{stage}_ms"] = _number((stats or {}).get(p))
        elif isinstance(value, dict):
            for p in PERCENTILES:
                flat[f"{p}_{name}"] = _number(value.get(p))
            flat[f"count_{name}"] = _number(value.get("count"))
        elif value is None or _number(value) is not None:
            flat[name] = _number(value)
    return flat


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """Every metric of every run in either report, A to B; a run in one report only has None on the other side.

    Metrics null on both sides are left out, and so are context metrics (turns, counts) that did not change.
    """
    runs_a = {run_label(run): flatten(run.get("summary") or {}) for run in a.get("runs") or []}
    runs_b = {run_label(run): flatten(run.get("summary") or {}) for run in b.get("runs") or []}
    differences = []
    for run in [*runs_a, *(name for name in runs_b if name not in runs_a)]:
        metrics_a, metrics_b = runs_a.get(run, {}), runs_b.get(run, {})
        for metric in [*metrics_a, *(m for m in metrics_b if m not in metrics_a)]:
            va, vb = metrics_a.get(metric), metrics_b.get(metric)
            if va is None and vb is None:
                continue
            change = None if va is None or vb is None else vb - va
            direction = _direction(metric, change)
            if _is_context(metric) and direction == "same":
                continue
            differences.append(Difference(run, metric, va, vb, change, direction))
    return differences


def render(differences: list[Difference], a_name: str, b_name: str) -> str:
    """A plain-text table for a terminal, worse first within each run, and a closing count.

    A run found in one report only is one line under the table rather than a row per metric.
    """
    by_run: dict[str, list[Difference]] = {}
    for d in differences:
        by_run.setdefault(d.run, []).append(d)
    only = {run: side for run, rows in by_run.items() if (side := _only_in(rows))}
    runs = [run for run in by_run if run not in only]
    compared = sorted(
        (d for d in differences if d.run not in only), key=lambda d: (runs.index(d.run), DIRECTION_ORDER[d.direction])
    )
    rows = [("run", "metric", "A", "B", "change", "")]
    rows += [
        (d.run, d.metric, _value(d.metric, d.a), _value(d.metric, d.b), _change(d.metric, d.change), d.direction)
        for d in compared
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {2, 3, 4}  # numbers line up on the right
    lines = [f"A: {a_name}", f"B: {b_name}", ""]
    for row in rows:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    if only:
        lines += ["", *(f"only in {side}: {run}" for run, side in only.items())]
    counts = {word: sum(d.direction == word for d in compared) for word in DIRECTION_ORDER}
    closing = (
        f"{counts['better']} better, {counts['worse']} worse, {counts['same']} same, "
        f"{counts['n/a']} not comparable, over {_runs(len(runs))}"
    )
    lines += ["", closing + (f"; {_runs(len(only))} in one report only" if only else "")]
    return "\n".join(lines) + "\n"


def _only_in(rows: list[Difference]) -> str:
    """'A' or 'B' when the run has metrics on that side only, else ''."""
    if all(d.b is None for d in rows):
        return "A"
    if all(d.a is None for d in rows):
        return "B"
    return ""


def _runs(n: int) -> str:
    return f"{n} run{'' if n == 1 else 's'}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _is_ms(metric: str) -> bool:
    return metric.endswith("_ms") and not metric.startswith("count_")


def _is_context(metric: str) -> bool:
    return metric in CONTEXT or metric.startswith("count_")


def _direction(metric: str, change: float | None) -> str:
    if change is None:
        return "n/a"
    if abs(change) < (MS_TOLERANCE if _is_ms(metric) else TOLERANCE):
        return "same"
    if _is_context(metric):
        return "n/a"
    if _is_ms(metric) or metric in LOWER_IS_BETTER:
        return "better" if change < 0 else "worse"
    if metric in HIGHER_IS_BETTER:
        return "better" if change > 0 else "worse"
    return "n/a"


def _value(metric: str, value: float | None, sign: str = "") -> str:
    if value is None:
        return "-"
    if _is_ms(metric):
        return f"{value:{sign}.0f} ms"
    if value.is_integer():
        return f"{value:{sign}.0f}"
    return f"{value:{sign}.3g}"


def _change(metric: str, change: float | None) -> str:
    return _value(metric, change, sign="+")
