"""Shared fixtures: the sample catalog with real embeddings, loaded once per test session."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from agent.answer.engine import AnswerEngine
from evals.agent_process import serving
from knowledge.base import KnowledgeBase
from knowledge.embedding import UniversalSentenceEncoder
from knowledge.loader import SAMPLE_CATALOG, load_catalog


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase(load_catalog(SAMPLE_CATALOG), UniversalSentenceEncoder(threads=1))


@pytest.fixture(scope="session")
def engine(knowledge: KnowledgeBase) -> AnswerEngine:
    engine = AnswerEngine(knowledge)
    engine.answer("How much is it?")  # loads what answering loads lazily, so timed tests see a warm engine
    return engine


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real `livehost serve` process on a free port, ready to answer; yields its URL and the process."""
    with serving(*args, env=env) as running:
        yield running
