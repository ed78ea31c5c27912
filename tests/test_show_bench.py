"""`livehost bench-show`: the show measured from a viewer's seat (unit: the measures on a made-up
recording; real: a short run against a served agent in the live room)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.app.cli import main
from agent.show.rundown import bridge, plan_rundown, segment_lines
from evals.show_bench import Heard, measure
from knowledge.catalog import Catalog
from knowledge.loader import SAMPLE_CATALOG, load_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SAMPLE_CATALOG)


def test_the_measures_of_a_show_recording(catalog: Catalog) -> None:
    first = plan_rundown(catalog).segments[0]
    product = catalog.product(first.product_id)
    lines = segment_lines(catalog, product, first.language)
    heard = Heard()
    heard.frames = [(t * 0.02, 0.2 if not 100 <= t < 200 else 0.0) for t in range(500)]  # 2 s of silence in 10 s
    show = lambda text: {"type": "transcript", "role": "agent", "text": text, "show": True}  # noqa: E731
    heard.captions = [(0.0, show(lines[0])), (3.0, show(lines[1]))]
    heard.asked = [(4.0, "How much is it?")]
    heard.captions += [(5.0, {"type": "transcript", "role": "agent", "text": "It costs 199 yuan. Also 12345."})]
    heard.captions += [(7.0, show(bridge(product, first.language))), (8.0, show(lines[2])), (9.0, show(lines[2]))]
    m = measure(heard, catalog)
    assert m["speaking_share"] == 0.8 and m["longest_silence_s"] == pytest.approx(2.0, abs=0.05)
    assert m["resume_accuracy"] == 1.0 and m["resumes_checked"] == 1  # went on with the line after the cut one
    assert m["answer_begins_ms"]["p50"] == 1000.0 and m["answered"] == 1
    assert m["numbers_not_in_catalog"] == ["12345"]
    assert m["repeated_sentences_per_hour"] > 0  # the third line twice


@pytest.mark.model
def test_a_short_show_bench_against_the_real_agent(tmp_path: Path) -> None:
    args = ["bench-show", "--minutes", "0.7", "--questions", "1", "--no-baseline", "--out", str(tmp_path)]
    assert main(args) == 0
    run = json.loads((tmp_path / "report.json").read_text())["runs"]["with show"]
    assert run["show_lines"] >= 2 and run["speaking_share"] > 0.2 and run["answered"] == 1, run
    assert run["numbers_not_in_catalog"] == [], run
