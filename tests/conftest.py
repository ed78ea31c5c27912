"""Shared fixtures: the sample catalog with real embeddings, loaded once per test session."""

from __future__ import annotations

import pytest

from agent.answer.engine import AnswerEngine
from knowledge.base import KnowledgeBase
from knowledge.embedding import UniversalSentenceEncoder
from knowledge.loader import SAMPLE_CATALOG, load_catalog


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase(load_catalog(SAMPLE_CATALOG), UniversalSentenceEncoder(threads=1))


@pytest.fixture(scope="session")
def engine(knowledge: KnowledgeBase) -> AnswerEngine:
    return AnswerEngine(knowledge)
