"""Grounded answers phrased by the real packaged language model (Qwen2.5 0.5B, CPU)."""

from __future__ import annotations

import pytest

from agent.answer.compose import ModelComposer
from agent.answer.engine import AnswerEngine
from agent.app import build
from agent.app.host import HostOptions
from knowledge.base import KnowledgeBase

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def model_engine(knowledge: KnowledgeBase) -> AnswerEngine:
    from agent.llm.model import ChatModel

    composer = ModelComposer(ChatModel(threads=2))
    composer.warm()
    return AnswerEngine(knowledge, composer)


@pytest.mark.parametrize(
    ("question", "stage", "fact"),
    [
        ("How heavy is the SmartBand X2?", None, "25 g"),
        ("这款手环续航多久?", "band-x2", "14天"),
        ("What's the suction power of the RoboVac S7?", None, "4000"),
    ],
)
def test_the_model_answers_with_the_catalog_fact(
    model_engine: AnswerEngine, question: str, stage: str | None, fact: str
) -> None:
    answer = model_engine.answer(question, stage)
    assert answer.plan.status == "answered"
    assert fact.replace(" ", "") in answer.text.replace(" ", "")
    assert answer.timings_ms["llm_first_token"] is not None


def test_the_model_says_no_when_the_catalog_says_no(model_engine: AnswerEngine) -> None:
    answer = model_engine.answer("Does the SmartBand X2 have built-in GPS?")
    first = answer.text.split(",")[0].split(".")[0].lower()
    assert "no" in first.split() or "not" in first or "doesn't" in first


def test_unknown_questions_do_not_reach_the_model(model_engine: AnswerEngine) -> None:
    answer = model_engine.answer("How many SmartBand X2 are left in stock?")
    assert answer.plan.status == "unknown" and answer.timings_ms["llm_first_token"] is None


def test_auto_explains_its_choice() -> None:
    host = build.host(HostOptions(composer="auto", threads=2))
    assert host.composer_note.startswith(("catalog sentences: the model needs", "the language model ("))
    assert host.engine.answer("手环X2多少钱?").plan.status == "answered"
