"""Evaluation report plots and the comparison of two reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evals.compare import compare, flatten, load_report, render
from evals.plots import Timeline, envelope, write_plots
from evals.stats import percentile

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p95": None, "min": None, "max": None, "mean": None}
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "min": min(values),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


def run(suite: str, condition: str, latencies: list[float], stages: bool = True, **scalars: Any) -> dict[str, Any]:
    stage_ms = {"endpointing": 300.0, "asr": 250.0, "llm_first_token": 320.0, "tts": 150.0, "server_response": 700.0}
    summary: dict[str, Any] = {
        "turns": len(latencies),
        "turns_passed": len(latencies),
        "voice_to_voice_ms": stats(latencies),
        "stages_ms": {name: stats([v] * len(latencies)) for name, v in stage_ms.items()} if stages else {},
        "barge_in_stop_ms": stats([]),
        "yield_rate": None,
        "false_yields": 0,
        "distractions": 3,
        "missed_responses": 0,
        "spurious_responses": 0,
        "talk_overs": 0,
        "talk_over_ms": 0.0,
        "answer_accuracy": 0.9,
        "hallucinations": 0,
        "wer": None,
        **scalars,
    }
    turns = [
        {"id": f"q{i}", "viewer": "viewer", "expect": "answer", "passed": True, "voice_to_voice_ms": v, "notes": []}
        for i, v in enumerate(latencies)
    ]
    return {"suite": suite, "condition": condition, "file": f"evals/suites/{suite}.yaml", "summary": summary,
            "turns": turns, "assertions": []}  # fmt: skip


def report(*runs: dict[str, Any]) -> dict[str, Any]:
    meta = {"date": "2026-11-29", "machine": "test box", "transport": "fake", "repeat": 1, "wall_s": 1.0}
    return {"schema": "livehost.eval/1", "meta": meta, "passed": True, "runs": list(runs)}


def timeline(seconds: float, rate: int = 16000) -> Timeline:
    t = np.arange(int(seconds * rate)) / rate
    user = (0.4 * np.sin(2 * np.pi * 220 * t) * ((t > 1.0) & (t < 2.0))).astype(np.float32)
    agent = (0.3 * np.sin(2 * np.pi * 330 * t) * (t < 1.25)).astype(np.float32)
    return Timeline(
        title="barge-in: bi-01 (interrupt 1000 ms into the answer)",
        rate=rate,
        start_s=10.0,
        user=user,
        agent=agent,
        user_segments=[(11.0, 12.0)],
        agent_segments=[(9.0, 11.25)],  # starts before the window: clipped
        events=[(11.25, "agent last heard"), (11.0, "interruption onset"), (11.1, "clear")],
    )


def two_runs() -> dict[str, Any]:
    clean = run("faq-en", "clean", [900.0, 1000.0, 1100.0, 1150.0, 1200.0, 1300.0, 1400.0, 1500.0])
    noisy = run("faq-en", "noisy", [1200.0, 1300.0, 1700.0, 1800.0, 2100.0], answer_accuracy=0.8)
    return report(clean, noisy)


def png(path: Path) -> Image.Image:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    image = Image.open(path)
    image.load()
    return image


def inked(image: Image.Image) -> float:
    """Share of pixels that are not (near) white: a blank canvas has almost none."""
    gray = np.asarray(image.convert("L"))
    return float((gray < 200).mean())


def test_write_plots_writes_every_plot_as_a_readable_png(tmp_path: Path) -> None:
    written = write_plots(two_runs(), tmp_path / "out", [timeline(3.0), timeline(60.0, rate=48000)])
    names = [p.name for p in written]
    assert names == ["latency-cdf.png", "stages.png", "barge-in-1.png", "barge-in-2.png"]
    for path in written:
        assert path.parent == tmp_path / "out"
        image = png(path)
        width, height = image.size
        assert 1100 <= width <= 1600 and 650 <= height <= 1000, (path.name, image.size)
        assert inked(image) > 0.02, path.name


def test_stage_plot_is_skipped_without_stage_data_and_cdf_says_no_data(tmp_path: Path) -> None:
    no_stages = report(run("faq-en", "clean", [1000.0, 1100.0], stages=False))
    assert [p.name for p in write_plots(no_stages, tmp_path / "a")] == ["latency-cdf.png"]
    assert not (tmp_path / "a" / "stages.png").exists()

    empty = report(run("faq-en", "clean", [], stages=False))
    empty_track = timeline(0.0)
    (cdf,) = write_plots(empty, tmp_path / "b", [empty_track])
    assert cdf.name == "latency-cdf.png"
    assert inked(png(cdf)) < inked(png(tmp_path / "a" / "latency-cdf.png"))


def test_envelope_keeps_the_peaks_of_a_long_track_in_few_points() -> None:
    track = np.zeros(48000 * 60, np.float32)
    track[123457] = 0.9
    track[2000001] = -0.7
    centres, low, high = envelope(track, columns=1000)
    assert len(centres) == len(low) == len(high) <= 1000
    assert high.max() == pytest.approx(0.9) and low.min() == pytest.approx(-0.7)
    assert centres[0] >= 0 and centres[-1] < len(track)
    short = np.array([0.1, -0.2, 0.3], np.float32)
    assert list(envelope(short)[2]) == pytest.approx([0.1, -0.2, 0.3])
    with pytest.raises(ValueError, match="mono"):
        envelope(np.zeros((10, 2), np.float32))


def test_flatten_names_every_assertable_metric() -> None:
    flat = flatten(two_runs()["runs"][0]["summary"])
    assert flat["p50_voice_to_voice_ms"] == 1150.0
    assert flat["p90_voice_to_voice_ms"] == 1500.0
    assert flat["p95_voice_to_voice_ms"] == 1500.0
    assert flat["max_voice_to_voice_ms"] == 1500.0
    assert flat["count_voice_to_voice_ms"] == 8
    assert flat["p50_stages_asr_ms"] == 250.0 and flat["p90_stages_llm_first_token_ms"] == 320.0
    assert flat["p95_stages_tts_ms"] == 150.0
    assert flat["p90_barge_in_stop_ms"] is None and flat["count_barge_in_stop_ms"] == 0
    assert flat["answer_accuracy"] == 0.9 and flat["wer"] is None and flat["talk_over_ms"] == 0.0
    assert "mean_voice_to_voice_ms" not in flat and "voice_to_voice_ms" not in flat


def test_compare_directions_and_missing_runs() -> None:
    a = two_runs()
    b = copy.deepcopy(a)
    clean_b = b["runs"][0]["summary"]
    clean_b["voice_to_voice_ms"]["p90"] = 1620.0  # latency up: worse
    clean_b["answer_accuracy"] = 0.95  # accuracy up: better
    clean_b["hallucinations"] = 2  # more hallucinations: worse
    clean_b["stages_ms"]["asr"]["p50"] = 250.3  # within 0.5 ms: same
    clean_b["distractions"] = 4  # context: shown because it changed, no direction
    b["runs"][1]["condition"] = "reverb"

    found = {(d.run, d.metric): d for d in compare(a, b)}
    up = found[("faq-en / clean", "p90_voice_to_voice_ms")]
    assert (up.a, up.b, up.change, up.direction) == (1500.0, 1620.0, 120.0, "worse")
    acc = found[("faq-en / clean", "answer_accuracy")]
    assert acc.change == pytest.approx(0.05) and acc.direction == "better"
    assert found[("faq-en / clean", "hallucinations")].direction == "worse"
    assert found[("faq-en / clean", "p50_stages_asr_ms")].direction == "same"
    assert found[("faq-en / clean", "p50_voice_to_voice_ms")].direction == "same"
    assert found[("faq-en / clean", "distractions")].direction == "n/a"
    assert ("faq-en / clean", "turns") not in found  # unchanged context is left out
    assert ("faq-en / clean", "wer") not in found  # null on both sides
    only_a = found[("faq-en / noisy", "p50_voice_to_voice_ms")]
    assert (only_a.a, only_a.b, only_a.change, only_a.direction) == (1700.0, None, None, "n/a")
    only_b = found[("faq-en / reverb", "answer_accuracy")]
    assert (only_b.a, only_b.b, only_b.direction) == (None, 0.8, "n/a")


def test_render_shows_signed_changes_worse_first_and_counts() -> None:
    a = report(run("faq-en", "clean", [1000.0, 1100.0]))
    b = copy.deepcopy(a)
    b["runs"][0]["summary"]["voice_to_voice_ms"]["p90"] = 1220.0
    b["runs"][0]["summary"]["answer_accuracy"] = 0.85
    b["runs"][0]["summary"]["voice_to_voice_ms"]["count"] = 3  # context: changed, no direction
    a["runs"][0]["summary"]["hallucinations"] = 1  # down to 0: better
    b["runs"].append(run("faq-zh", "clean", [900.0]))

    text = render(compare(a, b), "baseline", "candidate")
    lines = text.splitlines()
    assert lines[:2] == ["A: baseline", "B: candidate"]
    rows = [line for line in lines if line.startswith("faq-en / clean")]
    assert "p90_voice_to_voice_ms" in rows[0] and "+120 ms" in rows[0] and rows[0].endswith("worse")
    assert "answer_accuracy" in rows[1] and "-0.05" in rows[1] and rows[1].endswith("worse")
    assert "hallucinations" in rows[2] and "-1" in rows[2] and rows[2].endswith("better")
    assert "count_voice_to_voice_ms" in rows[3] and rows[3].split()[-2:] == ["+1", "n/a"]  # a count, not ms
    assert rows[-1].endswith("same")
    assert not any(line.startswith("faq-zh") for line in lines)
    assert "only in B: faq-zh / clean" in lines
    same = len(rows) - 4
    assert lines[-1] == f"1 better, 2 worse, {same} same, 1 not comparable, over 1 run; 1 run in one report only"


def test_load_report_checks_file_json_and_schema(tmp_path: Path) -> None:
    good = tmp_path / "report.json"
    good.write_text(json.dumps(two_runs()))
    assert load_report(good)["runs"][0]["suite"] == "faq-en"

    with pytest.raises(ValueError, match=r"missing\.json: no such file"):
        load_report(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "livehost.eval/1",')
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON \(line 1"):
        load_report(broken)
    other = tmp_path / "faq.json"
    other.write_text(json.dumps({"schema": "livehost.faq/1"}))
    with pytest.raises(ValueError, match=r"faq\.json: schema is 'livehost\.faq/1'"):
        load_report(other)
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        load_report(listed)
