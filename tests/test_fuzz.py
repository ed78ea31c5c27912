"""A bounded, seeded fuzz of every door of the server: the signaling socket, SDP offers, chat, the JSON
API, catalog files and the PCM socket.

Each run sends a few hundred random and mutated messages (seed in SEED; change it to explore) at an
in-process server with a fake voice, and asserts what a user would notice: no traceback in the
server's log, no connection closed without a reason, every request with an id answered, and
another participant getting answers all along.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from test_hardening import (  # noqa: F401  (clean_log: the fixture, shared)
    ADMIN,
    AUTH,
    CATALOG,
    FakeVoice,
    Peer,
    clean_log,
    closed_reason,
    offer_sdp,
    pcm_url,
    serving_app,
)
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from agent.app import build
from agent.app.host import HostOptions
from agent.app.server import create_app
from agent.audio import RATE, to_pcm16
from agent.room.routes import RoomOptions
from agent.rtc.client import room_socket_url

SEED = 16
pytestmark = pytest.mark.usefixtures("clean_log")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, Path]]:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    host = build.host(HostOptions(catalog=folder / "catalog.yaml", composer="catalog"))
    app = create_app(host, ADMIN, watch_interval=None, voice=FakeVoice(), room=RoomOptions(secret="f"))  # type: ignore[arg-type]
    with serving_app(app) as url:
        yield url, app, folder


def mint(site: tuple[str, Any, Path], role: str, name: str = "") -> str:
    return str(site[1].state.tokens.mint("live", role, name or role))


# ---- random values -------------------------------------------------------------------------------

STRINGS = ["", " ", "true", "false", "null", "0", "-1", "1e309", "band", "watch-gt", "live", "v=0", "\u202e",
           "🙂", "<script>alert(1)</script>", "'; DROP TABLE", "\x00", "\ud7ff", "é" * 50, "x" * 70, "Lumi",
           "Host"]  # fmt: skip


def value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, 1, -1, 16000, 2**63, -(2**70), 10**30])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e308, 48000.0])
    if kind in (4, 5):
        return rng.choice(STRINGS) if rng.random() < 0.7 else "".join(chr(rng.randrange(1, 0x3000)) for _ in range(8))
    if kind == 6:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["type", "id", "sdp", "to", "text", "product", "paused", "muted", "x"]): value(rng, depth + 1)
            for _ in range(rng.randrange(4))}  # fmt: skip


def mutate_text(rng: random.Random, text: str) -> str:
    """Characters deleted, inserted, flipped; a cut; a line dropped or repeated."""
    chars = list(text)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(5)
        at = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(at, len(chars) - 1)]
        elif op == 1:
            chars.insert(at, rng.choice(['"', "{", "}", "[", "]", ",", ":", "\\", "\n", "\r", "0", "x", "é", " "]))
        elif op == 2 and chars:
            chars[min(at, len(chars) - 1)] = chr(rng.randrange(32, 127))
        elif op == 3:
            chars = chars[:at]
        else:
            lines = "".join(chars).split("\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i]) if rng.random() < 0.5 else lines.pop(i)
            chars = list("\n".join(lines))
    return "".join(chars)


VALID = [
    {"type": "ping"},
    {"type": "chat", "text": "hello"},
    {"type": "stage", "product": "band"},
    {"type": "stage", "product": None},
    {"type": "agent", "paused": False},
    {"type": "agent", "muted": True},
    {"type": "subscribe", "to": "h1", "sdp": "v=0\r\n"},
    {"type": "publish", "sdp": "v=0\r\n"},
]


def signaling_message(rng: random.Random) -> str | bytes:
    choice = rng.randrange(6)
    message = dict(rng.choice(VALID))
    if choice == 0:  # a field dropped or given a random value
        key = rng.choice(list(message))
        if rng.random() < 0.5:
            message.pop(key)
        else:
            message[key] = value(rng)
    elif choice == 1:  # a field added
        message[rng.choice(["x", "paused", "text", "to", "id", "type"])] = value(rng)
    elif choice == 2:  # random JSON
        return json.dumps(value(rng))
    elif choice == 3:  # mutated text
        return mutate_text(rng, json.dumps(message))
    elif choice == 4:  # bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    return json.dumps(message)


# ---- the fuzz ------------------------------------------------------------------------------------


class Observer:
    """Another participant: its pings are answered and the text API answers it, all through the run."""

    def __init__(self, site: tuple[str, Any, Path]):
        self.url = site[0]
        self.peer = Peer(site[0], mint(site, "viewer", "Olive"))
        self.checks = 0

    def still_answered(self) -> None:
        assert self.peer.request({"type": "ping"}, timeout=30)["type"] == "pong"
        r = httpx.post(f"{self.url}/api/ask", json={"question": "How much is the band?"}, timeout=60)
        assert r.status_code == 200 and "199" in r.json()["answer"], r.text
        self.checks += 1

    def close(self) -> None:
        self.peer.close()


def alive(peer: Peer, rng: random.Random) -> None:
    """The connection is open and answers a request with an id, whatever came before."""
    try:
        reply = peer.request({"type": "ping"}, timeout=30)
    except ConnectionClosed as e:
        pytest.fail(f"the room closed a fuzzed connection: code {e.rcvd.code if e.rcvd else None}, "
                    f"reason {e.rcvd.reason if e.rcvd else ''!r}")  # fmt: skip
    assert reply["type"] == "pong"


def test_fuzzed_signaling_messages_get_replies_and_the_room_goes_on(site: tuple[str, Any, Path]) -> None:
    rng = random.Random(SEED)
    observer = Observer(site)
    host = Peer(site[0], mint(site, "host", "Hana"))
    viewer = Peer(site[0], mint(site, "viewer", "Vic"))
    try:
        for i in range(240):
            peer = host if i % 2 else viewer
            message = signaling_message(rng)
            if isinstance(message, str) and rng.random() < 0.5:  # with an id: it must be answered
                try:
                    request = json.loads(message)
                except ValueError:
                    request = None
                if isinstance(request, dict) and isinstance(request.get("type"), str) and "id" not in request:
                    reply = peer.request(request, timeout=30)
                    assert reply["type"] in ("error", "pong", "answer", "ok"), reply
                    continue
            peer.send(message)
            if i % 20 == 19:
                alive(peer, rng)
                observer.still_answered()
        for peer in (host, viewer):
            alive(peer, rng)
        assert observer.checks >= 10
    finally:
        for p in (host, viewer):
            p.close()
        observer.close()


def test_mutated_sdp_offers_get_an_answer_or_a_reason(site: tuple[str, Any, Path]) -> None:
    rng = random.Random(SEED + 1)
    good = offer_sdp()
    observer = Observer(site)
    viewer = Peer(site[0], mint(site, "viewer", "Sam"))
    try:
        kinds = []
        for i in range(30):
            sdp = mutate_text(rng, good) if rng.random() < 0.8 else good[: rng.randrange(len(good))]
            reply = viewer.request({"type": "publish", "sdp": sdp}, timeout=60)
            assert reply["type"] in ("answer", "error"), reply
            assert reply["type"] == "answer" or reply["error"], reply
            kinds.append(reply["type"])
            if i % 10 == 9:
                observer.still_answered()
        assert "error" in kinds
        alive(viewer, rng)
    finally:
        viewer.close()
        observer.close()


def test_random_chat_is_delivered_as_sent_or_refused_with_a_reason(site: tuple[str, Any, Path]) -> None:
    rng = random.Random(SEED + 2)
    observer = Observer(site)
    senders = [Peer(site[0], mint(site, "viewer", f"C{i}")) for i in range(4)]
    try:
        delivered = []
        for peer in senders:
            for _ in range(5):  # within the rate limit: every valid one is delivered
                text = rng.choice([rng.choice(STRINGS), "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(40)),
                                   "a" * rng.choice([299, 300, 301]), " \n\t "])  # fmt: skip
                if not text.strip() or len(text) > 300:
                    reply = peer.request({"type": "chat", "text": text}, timeout=30)
                    assert reply["type"] == "error" and reply["error"]
                    continue
                peer.send({"type": "chat", "text": text})
                delivered.append(text.strip())
        got = [observer.peer.until(lambda e: e["type"] == "chat", 30)["text"] for _ in delivered]
        assert got == delivered
        observer.still_answered()
    finally:
        for p in senders:
            p.close()
        observer.close()


def test_the_json_api_answers_random_requests_with_a_reason(site: tuple[str, Any, Path]) -> None:
    rng = random.Random(SEED + 3)
    url = site[0]
    paths = ["/api/ask", "/api/rooms/live/tokens", "/api/rooms/x y/tokens", "/api/catalog/reload", "/api/products",
             "/healthz", "/api/ask/", "/api//ask", "/api/rooms/" + "r" * 60 + "/tokens"]  # fmt: skip
    bodies = [
        {"question": "How much is the band?"},
        {"role": "viewer", "name": "Ann", "ttl_s": 60},
        {"path": "catalog.yaml"},
    ]
    with httpx.Client(timeout=60) as client:
        for _ in range(80):
            path = rng.choice(paths)
            body = dict(rng.choice(bodies))
            choice = rng.randrange(5)
            if choice == 0:
                content = json.dumps(value(rng)).encode()
            elif choice == 1:
                body[rng.choice(list(body) + ["x"])] = value(rng)
                content = json.dumps(body).encode()
            elif choice == 2:
                content = mutate_text(rng, json.dumps(body)).encode("utf-8", "surrogatepass")
            elif choice == 3:
                content = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
            else:
                content = json.dumps(body).encode()
            headers = {
                "Content-Type": rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])
            }
            if rng.random() < 0.5:
                headers["Authorization"] = rng.choice([f"Bearer {ADMIN}", "Bearer x", f"Bearer {mint(site, 'host')}"])
            method = rng.choice(["POST", "POST", "POST", "GET", "PUT"])
            r = client.request(method, url + path, content=content if method != "GET" else None, headers=headers)
            assert r.status_code < 500, (method, path, content[:200], r.text)
            if r.status_code >= 400:
                assert list(r.json()) == ["error"] or "error" in r.json(), r.text
        r = client.post(f"{url}/api/ask", json={"question": "How much is the band?"})
        assert "199" in r.json()["answer"]


def test_mutated_catalog_files_are_reloaded_or_refused_with_a_reason(site: tuple[str, Any, Path]) -> None:
    rng = random.Random(SEED + 4)
    url, _, folder = site
    as_json = json.dumps({"products": [{"id": "band", "name": {"zh": "手环", "en": "Band"}, "price": 199}]})
    as_csv = "id,name,price\nband,Band,199\n"
    with httpx.Client(timeout=120) as client:
        for i in range(24):
            suffix, text = rng.choice([(".yaml", CATALOG), (".json", as_json), (".csv", as_csv)])
            path = folder / f"fuzzed{i}{suffix}"
            path.write_text(mutate_text(rng, text), encoding="utf-8", errors="surrogatepass")
            r = client.post(f"{url}/api/catalog/reload", json={"path": str(path)}, headers=AUTH)
            assert r.status_code in (200, 400), r.text
            assert r.status_code == 200 or r.json()["error"]
        r = client.post(f"{url}/api/catalog/reload", json={"path": str(folder / "catalog.yaml")}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert "199" in client.post(f"{url}/api/ask", json={"question": "How much is the band?"}).json()["answer"]


def test_the_pcm_socket_survives_random_frames_and_still_answers(site: tuple[str, Any, Path]) -> None:
    rng = random.Random(SEED + 5)
    url = site[0]
    for _ in range(12):  # random URLs: a conversation or a refusal with its reason
        query = {"token": ADMIN, "sample_rate": str(value(rng)), "product": str(value(rng))}
        with connect(pcm_url(url, **query), open_timeout=20) as ws:
            with contextlib.suppress(ConnectionClosed):  # refused: closed before this arrives
                ws.send(b"\x01")  # an open conversation reports the odd byte; a refused one was told why
            first = json.loads(ws.recv(timeout=30))
            if "even number of bytes" in first["error"]:
                continue
            messages, reason = closed_reason(ws)
            assert first["error"] and reason, (query, first, messages, reason)
    with connect(pcm_url(url, token=ADMIN), open_timeout=20, max_size=None) as ws:
        for _ in range(120):
            choice = rng.randrange(4)
            if choice == 0:
                ws.send(bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 640, 641, 96001]))))
            elif choice == 1:
                ws.send(json.dumps(value(rng)))
            elif choice == 2:
                ws.send(mutate_text(rng, json.dumps({"type": "start", "sample_rate": 16000})))
            else:
                ws.send(to_pcm16(np.zeros(320, np.float32)))
        t = np.arange(int(0.8 * RATE)) / RATE
        speech = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
        for i in range(0, len(speech), 320):
            ws.send(to_pcm16(speech[i : i + 320]))
        audio, deadline = 0, time.monotonic() + 60
        while audio < RATE // 2:  # the answer comes, as audio
            assert time.monotonic() < deadline, "no answer after the fuzzed frames"
            message = ws.recv(timeout=60)
            audio += len(message) // 2 if isinstance(message, bytes) else 0


def test_clients_that_vanish_mid_handshake_leave_no_traceback(site: tuple[str, Any, Path]) -> None:
    """Connections closed at once, refused or admitted, on every socket; the room still answers."""
    import socket

    url = site[0]
    port = int(url.rsplit(":", 1)[1])
    targets = [
        room_socket_url(url, "live", "bad-token"),
        room_socket_url(url, "live", mint(site, "viewer")),
        pcm_url(url),
        pcm_url(url, token=ADMIN),
        pcm_url(url, token=ADMIN, sample_rate="7"),
    ]
    for i in range(30):
        target = targets[i % len(targets)]
        if i % 3 == 0:  # a raw upgrade request, then gone before the reply
            path = target.split(str(port), 1)[1]
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{upgrade}{key}\r\n".encode())
        else:
            ws = connect(target, open_timeout=20)
            ws.close()
    observer = Observer(site)
    try:
        observer.still_answered()
    finally:
        observer.close()
