"""The compressed soak (`livehost bench-soak`): hours of the real show on a virtual clock."""

from __future__ import annotations

from pathlib import Path

from evals.show_soak import soak
from knowledge.loader import SAMPLE_CATALOG, load_catalog


def test_three_hours_of_show_keep_their_pace_facts_place_and_memory(tmp_path: Path) -> None:
    r = soak(load_catalog(SAMPLE_CATALOG), 3.0, seed=2, out=tmp_path)
    hourly = r["lines_by_hour"]
    assert len(hourly) == 3 and min(hourly) > 0.8 * max(hourly), hourly  # the show keeps its pace, hour after hour
    assert r["longest_gap_between_lines_s"] < 30  # questions hold it for seconds, never longer
    assert r["said_again_within_an_hour"] <= 1, r["said_again"]  # at most the line the restart cut, said again
    assert r["offer_said"] >= 1 and r["offer_said_outside_its_window"] == 0
    (opened,) = r["flash_sale_opened"]  # announced once, when it opened
    assert r["flash_sale_opens_at_s"] <= opened < r["flash_sale_opens_at_s"] + 120
    assert r["restart"]["resumed_same_product"] is True
    assert r["lines_about_removed_product_after_reload"] == 0
    assert r["memory_growth_mb_after_first_hour"] is not None and r["memory_growth_mb_after_first_hour"] < 20
    assert (tmp_path / "report.json").is_file()
