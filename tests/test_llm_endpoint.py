"""The OpenAI-compatible chat endpoint adapter: streaming, errors, and answers checked like the local model's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agent.answer.compose import ModelComposer
from agent.answer.engine import AnswerEngine
from agent.llm.openai_chat import ChatEndpointError, OpenAIChat
from agent.llm.weights import resolve_model
from knowledge.base import KnowledgeBase


@contextmanager
def endpoint(pieces: list[str], status: int = 200) -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A small server speaking the streamed chat-completions protocol; yields its URL and the requests seen."""
    seen: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, **body})
            if status != 200:
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b'{"error": "model not found"}')
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in pieces:
                chunk = {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()


def test_streams_the_pieces_in_order_with_the_request_it_should() -> None:
    with endpoint(["The band ", "lasts 14 days", "."]) as (url, seen):
        chat = OpenAIChat(url, "qwen")
        assert list(chat.stream("system", "question", max_new_tokens=20)) == ["The band ", "lasts 14 days", "."]
    assert seen[0]["path"] == "/v1/chat/completions" and seen[0]["model"] == "qwen"
    assert seen[0]["stream"] is True and seen[0]["max_tokens"] == 20 and seen[0]["temperature"] == 0
    assert chat.last_timings["tokens"] == 3 and chat.last_timings["stop_reason"] == "stop"


def test_an_unreachable_or_failing_endpoint_is_one_clear_error() -> None:
    with pytest.raises(ChatEndpointError, match="cannot reach"):
        list(OpenAIChat("http://127.0.0.1:9", timeout_s=2).stream("s", "q"))
    with endpoint([], status=404) as (url, _), pytest.raises(ChatEndpointError, match="404"):
        list(OpenAIChat(url + "/v1").stream("s", "q"))


def test_a_remote_model_is_checked_clause_by_clause(knowledge: KnowledgeBase) -> None:
    # the endpoint invents a battery life: the clause is never spoken, the catalog's sentence is
    with endpoint(["The SmartBand X2 lasts 30 days", " on a charge."]) as (url, _):
        engine = AnswerEngine(knowledge, ModelComposer(OpenAIChat(url)))
        answer = engine.answer("How long does the SmartBand X2 battery last?")
    assert "30" not in answer.text and "14 days" in answer.text
    with endpoint(["The SmartBand X2 lasts 14 days", " on one charge."]) as (url, _):
        engine = AnswerEngine(knowledge, ModelComposer(OpenAIChat(url)))
        answer = engine.answer("How long does the SmartBand X2 battery last?")
    assert answer.clauses[0].source == "model" and "14 days" in answer.text


@pytest.mark.model
def test_a_real_openai_compatible_server_phrases_checked_answers(tmp_path: Path) -> None:
    """Hugging Face's `transformers serve` (an OpenAI-compatible server) with the packaged model, as a
    user would run vLLM or llama.cpp's server: livehost asks it over HTTP and checks what it says."""
    model_dir = resolve_model(None)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "transformers"), "serve", str(model_dir), "--host", "127.0.0.1",
         "--port", str(port), "--device", "cpu"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/health", server, timeout_s=300)
        out = subprocess.run(
            [sys.executable, "-m", "agent", "ask", "--json", "--composer", "model", "--llm-url",
             f"http://127.0.0.1:{port}", "--llm-model", str(model_dir), "How long does the SmartBand X2 battery last?"],
            capture_output=True, text=True, timeout=600, env=env,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        answer = json.loads(out.stdout)
        assert answer["status"] == "answered" and "14" in answer["answer"]
        assert answer["composer"] == "model" and answer["timings_ms"]["llm_first_token"] is not None
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the model server exited while starting"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)  # polling a server that is loading a model: there is no event to wait on
    raise AssertionError(f"the model server did not become healthy within {timeout_s} s")
