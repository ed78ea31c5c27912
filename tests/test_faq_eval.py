"""The FAQ benchmark: its grading, and the bundled question set as a regression gate."""

from __future__ import annotations

from pathlib import Path

from agent.answer.engine import AnswerEngine
from evals import faq


def question(**kw: object) -> faq.Question:
    base: dict[str, object] = {"id": "t", "lang": "en", "kind": "spec", "question": "", "status": "answered"}
    return faq.Question(**{**base, **kw})  # type: ignore[arg-type]


def test_grading_flags_wrong_numbers_and_flipped_yes_no(engine: AnswerEngine) -> None:
    catalog = engine.knowledge.catalog
    right = engine.answer("How long does the SmartBand X2 battery last?")
    assert faq.grade(question(facts=("14",), products=("band-x2",)), right, catalog).correct
    wrong = engine.answer("How long does the SmartBand X2 battery last?")
    wrong.clauses[0] = type(wrong.clauses[0])("The SmartBand X2 lasts 30 days.", "model", 0.0)
    g = faq.grade(question(facts=("14",), products=("band-x2",)), wrong, catalog)
    assert not g.correct and g.hallucination
    no = engine.answer("Does the SmartBand X2 have GPS?")
    assert not faq.grade(question(polarity="yes", products=("band-x2",)), no, catalog).correct
    assert faq.grade(question(polarity="no", products=("band-x2",)), no, catalog).correct


def test_bundled_question_set_is_answered_without_hallucination(engine: AnswerEngine, tmp_path: Path) -> None:
    questions = faq.load_questions(faq.DEFAULT_QUESTIONS, engine.knowledge.catalog)
    assert len(questions) >= 150
    results = faq.run(engine, questions, progress=False)
    report = faq.summarize(
        results,
        {
            "catalog": "sample",
            "questions_file": "bundled",
            "composer": "catalog",
            "machine": faq.machine(),
            "date": faq.today(),
            "device": "cpu",
        },
    )
    json_path, md_path = faq.write(report, tmp_path)
    assert json_path.exists() and "| accuracy |" in md_path.read_text()
    assert report["hallucinations"] == 0, [r for r in report["results"] if r["hallucination"]]
    assert report["accuracy"] >= 0.95
    assert report["declined_correct_rate"] == 1.0
