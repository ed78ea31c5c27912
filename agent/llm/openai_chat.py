"""A chat model behind any OpenAI-compatible endpoint: vLLM, llama.cpp's server, Ollama, a cloud API.

It streams `POST {url}/v1/chat/completions` (server-sent events) and yields text pieces as they
arrive, exactly like the local model, so the answer composer checks every clause the same way.
Standard library only: no SDK is needed to speak this protocol.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any


class ChatEndpointError(RuntimeError):
    """The endpoint cannot be reached or answers with an error; the message says which."""


class OpenAIChat:
    """`ChatStream` over HTTP. `url` is the server's base (`http://127.0.0.1:8081` or `.../v1`)."""

    def __init__(self, url: str, model: str = "default", api_key: str | None = None, timeout_s: float = 30.0):
        base = url.rstrip("/")
        self.endpoint = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.last_timings: dict[str, Any] = {}

    def warm(self, system: str) -> None:
        """One tiny request, so the server has the system prompt cached (servers that cache prefixes)."""
        for _ in self.stream(system, "Reply with OK.", max_new_tokens=1):
            pass

    def stream(
        self, system: str, user: str, *, max_new_tokens: int = 96, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "stream": True,
            "temperature": 0,
            "max_tokens": max_new_tokens,
        }
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.endpoint, json.dumps(body).encode(), headers, method="POST")
        start = time.perf_counter()
        self.last_timings = {"first_token_ms": None, "tokens": 0, "stop_reason": None}
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout_s)  # noqa: S310 (the user's own URL)
        except urllib.error.HTTPError as e:
            detail = e.read(300).decode("utf-8", "replace")
            raise ChatEndpointError(f"{self.endpoint} answered {e.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:
            raise ChatEndpointError(f"cannot reach {self.endpoint}: {e}") from None
        with response:
            for raw in response:
                if cancel is not None and cancel.is_set():
                    self.last_timings["stop_reason"] = "cancel"
                    return
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                piece, finish = _delta(data)
                if finish:
                    self.last_timings["stop_reason"] = finish
                if piece:
                    if self.last_timings["first_token_ms"] is None:
                        self.last_timings["first_token_ms"] = round((time.perf_counter() - start) * 1000, 1)
                    self.last_timings["tokens"] += 1
                    yield piece
        self.last_timings["total_ms"] = round((time.perf_counter() - start) * 1000, 1)

    def generate(self, system: str, user: str, **kwargs: Any) -> str:
        return "".join(self.stream(system, user, **kwargs))


def _delta(data: str) -> tuple[str, str | None]:
    """The text and finish reason of one streamed chunk; a malformed chunk carries nothing."""
    try:
        chunk = json.loads(data)
        choice = chunk["choices"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return "", None
    delta = choice.get("delta") or {}
    text = delta.get("content") if isinstance(delta, dict) else None
    return (text if isinstance(text, str) else ""), choice.get("finish_reason")
