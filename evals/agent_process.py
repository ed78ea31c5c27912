"""A real `livehost serve` process on a free local port: what the benchmarks and tests measure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 240  # loading the voice models takes a while on a busy CPU


@contextmanager
def serving(
    *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Starts the server with `args`, waits until it answers, yields its URL and the process; stops it after.

    Its output goes to `log` when given (a long run must not fill a pipe nobody reads).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "agent", "serve", "--port", str(port), *args]
    sink = open(log, "w", encoding="utf-8") if log is not None else subprocess.PIPE  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout and proc.poll() is not None else ""
                    if log is not None:
                        output = log.read_text(encoding="utf-8")
                    raise RuntimeError(f"livehost serve did not come up: {output[-2000:]}") from None
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log is not None:
            sink.close()  # type: ignore[union-attr]
