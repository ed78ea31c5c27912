"""Shared fixtures: the sample catalog with real embeddings, loaded once per test session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real `livehost serve` process on a free port, ready to answer; yields its URL and the process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "agent.cli", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # loading the voice models takes a while on a busy CPU
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout and proc.poll() is not None else ""
                    raise RuntimeError(f"livehost serve did not come up: {output[-2000:]}") from None
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)
