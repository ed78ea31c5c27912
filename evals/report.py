"""Benchmark reports on disk: `report.json` for machines, `report.md` for people."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_report(report: dict[str, Any], out: Path, render: Callable[[dict[str, Any]], str]) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(render(report), encoding="utf-8")
    return json_path, md_path


def percentile_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows of p50/p90/p95/n, one per figure."""
    lines = ["| figure | p50 | p90 | p95 | n |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {p['p50']} | {p['p90']} | {p['p95']} | {p['n']} |" for name, p in rows.items()]
    return lines
