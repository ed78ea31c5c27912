"""`livehost bench-show`: the show measured from a viewer's seat (unit: the measures on a made-up
recording; real: a short run against a served agent in the live room)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.app.cli import main
from agent.show.rundown import bridge, plan_rundown, segment_lines
from evals import show_timeline
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


def test_a_long_run_window_by_window_and_whether_it_stays_flat(tmp_path: Path) -> None:
    # 3 windows of 60 s; the host silent from 70 to 75 s; memory grows by 30 MB in the last window;
    # 2 questions a window, the last window's answers twice as slow, one not answered
    frames = [(t * 0.02, 0.0 if 3500 <= t < 3750 else 0.2) for t in range(9000)]
    asked = [(10.0, 500.0), (40.0, 700.0), (70.0, 600.0), (100.0, 600.0), (130.0, 1200.0), (150.0, None)]
    rss = [(float(t), 800.0 + (30.0 if t >= 125 else 0.0)) for t in range(0, 180, 5)]
    rows = show_timeline.windows(frames, asked, [1.0, 20.0, 65.0], rss, 0.0, 180.0, 60.0)
    assert [(r["asked"], r["answered"]) for r in rows] == [(2, 2), (2, 2), (2, 1)]
    assert [r["answer_begins_p50_ms"] for r in rows] == [500.0, 600.0, 1200.0]
    assert rows[1]["longest_silence_s"] == pytest.approx(5.0, abs=0.05) and rows[0]["longest_silence_s"] == 0.0
    assert rows[1]["speaking_share"] == pytest.approx(55 / 60, abs=0.01) and rows[0]["show_lines"] == 2
    assert [r["rss_mb"] for r in rows] == [800.0, 800.0, 830.0] and rows[2]["rss_low_mb"] == 800.0
    flat = show_timeline.flatness(rows)
    assert flat == {"windows": 3, "rss_growth_mb": 30.0, "p50_last_over_first": 2.4, "speaking_share_change": 0.0}
    plot = show_timeline.plot(rows, rss, asked, "a test run", tmp_path / "run.png")
    assert plot.stat().st_size > 10_000


@pytest.mark.model
def test_a_short_show_bench_against_the_real_agent(tmp_path: Path) -> None:
    args = ["bench-show", "--minutes", "0.7", "--questions", "1", "--no-baseline", "--out", str(tmp_path)]
    assert main(args) == 0
    run = json.loads((tmp_path / "report.json").read_text())["runs"]["with show"]
    assert run["show_lines"] >= 2 and run["speaking_share"] > 0.2 and run["answered"] == 1, run
    assert run["numbers_not_in_catalog"] == [], run
    assert run["windows"] and run["rss_mb"]["last"] > 100 and run["server_errors"] == [], run
    assert (tmp_path / run["plot"]).is_file()
