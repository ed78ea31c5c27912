"""The blind catalogs' dev sets, answered with real embeddings: sellers' own files load and the
answers keep their level (a guard against regressions, not a target: see docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.app.cli import main
from evals import faq


def test_every_blind_catalog_loads_and_the_dev_answers_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sets = faq.blind_sets("dev")
    assert len(sets) >= 10
    assert main(["eval", "faq", "--blind", "dev", "--composer", "catalog", "--quiet", "--out", str(tmp_path)]) == 0
    reports = {name: json.loads((tmp_path / name / "report.json").read_text()) for name, _, _ in sets}
    correct = sum(sum(r["correct"] for r in rep["results"]) for rep in reports.values())
    asked = sum(rep["questions"] for rep in reports.values())
    assert correct >= 305, f"{correct}/{asked} correct on the blind dev sets (312 of 395 when this was set)"
    assert sum(rep["hallucinations"] for rep in reports.values()) <= 13
    assert "| all |" in (tmp_path / "summary.md").read_text()
