"""The show report: questions per product and language, the unknown ones as an FAQ draft, declined
ones, answer latency, viewers over time, what the show presented; kept in a file as it goes."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from agent.show.report import ShowReport


def turn(question: str, status: str, products: list[str], language: str = "en", ms: float = 900.0) -> dict:
    return {"transcript": question, "status": status, "products": products, "language": language,
            "interrupted": False, "timings_ms": {"server_response": ms}}  # fmt: skip


def test_the_report_counts_questions_and_turns_the_unknown_ones_into_an_faq_draft(tmp_path: Path) -> None:
    now = [1000.0]
    report = ShowReport(tmp_path / "report.json", clock=lambda: now[0])
    report.turn(turn("How much is the X2?", "answered", ["band-x2"], ms=800))
    report.turn(turn("手环X2防水吗?", "answered", ["band-x2"], "zh", ms=1200))
    report.turn(turn("Does the X2 work with a Garmin strap?", "unknown", ["band-x2"]))
    report.turn(turn("Does the X2 work with a Garmin strap?", "unknown", ["band-x2"]))  # asked twice: once in the draft
    report.turn(turn("Tell me a joke about your boss", "declined", []))
    report.turn(turn("", "ignored", []))  # a cough: not a question
    report.sample_viewers(3)
    now[0] += 60
    report.sample_viewers(5)
    report.segment("band-x2")
    report.segment("band-x2")
    summary = report.summary(lambda p: {"band-x2": "SmartBand X2"}[p])
    assert summary["questions"] == 5 and summary["by_status"] == {"answered": 2, "unknown": 2, "declined": 1}
    assert summary["by_language"] == {"en": 4, "zh": 1}
    x2 = summary["by_product"][0]
    assert x2["name"] == "SmartBand X2" and x2["counts"] == {"en:answered": 1, "zh:answered": 1, "en:unknown": 2}
    assert summary["unknown"] == [{"question": "Does the X2 work with a Garmin strap?", "products": ["band-x2"]}]
    draft = yaml.safe_load(summary["faq_draft"])
    assert draft == [{"product": "band-x2", "faq": [{"q": "Does the X2 work with a Garmin strap?",
                                                       "a": "TODO: the answer, in the seller's words"}]}]  # fmt: skip
    assert summary["declined"] == ["Tell me a joke about your boss"]
    assert summary["response_ms"]["p50"] == 900.0 and summary["response_ms"]["count"] == 5
    assert [v["count"] for v in summary["viewers"]] == [3, 5]
    assert summary["segments"] == [{"product": "band-x2", "name": "SmartBand X2", "times": 2}]
    report.save()
    assert json.loads((tmp_path / "report.json").read_text())["questions"] == 5
