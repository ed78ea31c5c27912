"""The room benchmark's arithmetic: spans read in the page become per-question figures, exactly."""

from __future__ import annotations

from evals.faq import Question
from evals.room import FILE_GAP_S, file_rows

GAP = 1000 * FILE_GAP_S


def question(n: int, fact: str) -> Question:
    return Question(f"q{n}", "en", "spec", f"question {n}", "answered", facts=(fact,))


def test_each_question_is_measured_from_its_last_sound_to_the_first_answer_sample() -> None:
    questions = [question(1, "14"), question(2, "199")]
    # question 1 has a pause inside it (two spans); question 2 starts after the long gap
    mic = [[4000.0, 5200.0], [5600.0, 6500.0], [6500.0 + GAP, 9000.0 + GAP]]
    agent = [[7900.0, 12000.0], [9000.0 + GAP + 1450.0, 9000.0 + GAP + 4000.0]]
    turns = [
        {"at": 6700.0, "status": "cancelled", "answer": ""},
        {"at": 12100.0, "status": "answered", "answer": "It lasts 14 days.", "timings_ms": {"asr": 700}},
        {"at": 14000.0 + GAP, "status": "answered", "answer": "It costs 150 yuan."},
    ]
    first, second = file_rows(questions, mic, agent, turns)
    assert first["voice_to_voice_ms"] == 1400.0 and first["correct"] and first["stages_ms"] == {"asr": 700}
    assert second["voice_to_voice_ms"] == 1450.0 and second["status"] == "answered" and not second["correct"]


def test_a_question_the_page_never_heard_is_reported_not_dropped() -> None:
    rows = file_rows([question(1, "14"), question(2, "199")], [[4000.0, 5000.0]], [], [])
    assert rows[0]["voice_to_voice_ms"] is None and rows[0]["status"] == "no answer"
    assert rows[1]["status"] == "not heard by the page"
