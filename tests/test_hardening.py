"""Issue 16, case by case: what an outside probe broke, each as a test that fails without its fix.

The server runs in this process (uvicorn on a loopback port, in a thread) so its log is captured
and the voice can be small fakes: what is tested here is the door, not the models.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from test_conversation import LoudnessVAD, ToneVoice
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from agent.app import build
from agent.app.host import Host, HostOptions
from agent.app.server import create_app
from agent.asr.recognizer import Transcript
from agent.audio import RATE, to_pcm16
from agent.room.room import ROLE_SEATS, Room, RoomError
from agent.room.routes import RoomOptions
from agent.room.tokens import Pass, TokenError, Tokens
from agent.rtc.client import room_socket_url
from agent.session.conversation import Stages

ADMIN = "admin-secret"
CATALOG = (
    "products:\n  - id: band\n    name: {zh: 手环, en: Band}\n    category: fitness band\n    price: 199\n"
    "    specs: {battery_life: {zh: 14天, en: 14 days}}\n"
    "  - id: watch-gt\n    name: {zh: 手表, en: Watch GT}\n    category: smart watch\n    price: 899\n"
)
QUESTION = "How long does the Band battery last?"
IDLE_S = 4.0  # /ws/pcm's idle limit in these tests (30 s by default)


# ---- an in-process server with a fake voice ----------------------------------------------------


class SameQuestionEars:
    """Whatever is said, it heard the same question."""

    def transcribe(
        self, audio: np.ndarray, language: str | None = None, *, partial: bool = False, cancel: Any = None
    ) -> Transcript:
        return Transcript(QUESTION, "en", 1.0, len(audio) / RATE * 1000, 1.0)


class FakeVoice:
    def stages(self, engine: Any, rate: int) -> Stages:
        return Stages(SameQuestionEars(), engine, ToneVoice(), LoudnessVAD, completion=lambda audio: 0.9)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("catalogs")
    (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def extra_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("more")
    (folder / "other.yaml").write_text(CATALOG.replace("price: 199", "price: 189"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def host(catalog_dir: Path) -> Host:
    return build.host(HostOptions(catalog=catalog_dir / "catalog.yaml", composer="catalog"))


@contextmanager
def serving_app(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the in-process server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def site(host: Host, extra_dir: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(
        host, ADMIN, watch_interval=None, voice=FakeVoice(), room=RoomOptions(secret="s"),  # type: ignore[arg-type]
        catalog_dirs=[extra_dir], pcm_idle_s=IDLE_S,
    )  # fmt: skip
    with serving_app(app) as url:
        yield url, app


def mint(site: tuple[str, Any], role: str, name: str = "", room: str = "live", seats: int = 2) -> str:
    return str(site[1].state.tokens.mint(room, role, name or role, seats=seats))


@pytest.fixture
def clean_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After the test: no traceback and no unretrieved task exception was logged by the server."""
    caplog.set_level(logging.INFO)
    yield
    gc.collect()  # an unretrieved task exception is logged when the task is collected
    bad = [
        r for r in caplog.records if r.exc_info or "never retrieved" in r.getMessage() or "Traceback" in r.getMessage()
    ]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad)


class Peer:
    """One participant's signaling socket, synchronous, every wait bounded."""

    def __init__(self, base: str, token: str, room: str = "live", name: str = ""):
        self.ws: ClientConnection = connect(
            room_socket_url(base, room, token, **({"name": name} if name else {})), open_timeout=20, max_size=2**22
        )
        self.first = self.recv()
        self.events: list[dict[str, Any]] = []
        self._ids = iter(range(1, 10**9))

    def recv(self, timeout: float = 20) -> dict[str, Any]:
        return dict(json.loads(self.ws.recv(timeout=timeout)))

    def send(self, message: Any) -> None:
        self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    def request(self, message: dict[str, Any], timeout: float = 20) -> dict[str, Any]:
        ask = next(self._ids)
        self.send({**message, "id": ask})
        return self.until(lambda e: e.get("id") == ask, timeout)

    def until(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            event = self.recv(max(0.01, deadline - time.monotonic()))
            if predicate(event):
                return event
            self.events.append(event)

    def close(self) -> None:
        self.ws.close()


@contextmanager
def peers(base: str, *tokens: str | tuple[str, str]) -> Iterator[list[Peer]]:
    opened: list[Peer] = []
    try:
        for token in tokens:
            opened.append(Peer(base, *((token, "live") if isinstance(token, str) else token)))
        yield opened
    finally:
        for peer in opened:
            peer.close()


def closed_reason(ws: ClientConnection, timeout: float = 20) -> tuple[list[dict[str, Any]], str]:
    """The messages the server sent before it closed the connection, and its close reason."""
    got = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            message = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(message, str):
                got.append(json.loads(message))
    except ConnectionClosed as e:
        return got, e.rcvd.reason if e.rcvd else ""


def pcm_url(base: str, **query: str) -> str:
    from urllib.parse import urlencode

    return base.replace("http://", "ws://") + "/ws/pcm" + (f"?{urlencode(query)}" if query else "")


# ---- 1. catalog reload reads only regular catalog files from allowed directories -----------------

AUTH = {"Authorization": f"Bearer {ADMIN}"}


def test_reload_refuses_devices_fifos_and_files_outside_the_catalog_directory(
    site: tuple[str, Any], catalog_dir: Path, tmp_path: Path, clean_log: None
) -> None:
    url = site[0]
    fifo = catalog_dir / "pipe.yaml"
    os.mkfifo(fifo)
    huge = catalog_dir / "huge.yaml"
    with open(huge, "wb") as f:
        f.truncate(21 * 1024 * 1024)  # sparse: 21 MB without writing them
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(CATALOG, encoding="utf-8")
    (catalog_dir / "link.yaml").symlink_to(outside)
    refusals = {
        "/dev/zero": "only from the catalog's directory",
        "/dev/urandom": "only from the catalog's directory",
        str(outside): "only from the catalog's directory",
        str(catalog_dir / "link.yaml"): "only from the catalog's directory",
        str(fifo): "not a regular file",
        str(huge): "larger than 20 MB",
        "../../etc/passwd": "only from the catalog's directory",
    }
    for path, reason in refusals.items():
        started = time.monotonic()
        r = httpx.post(f"{url}/api/catalog/reload", json={"path": path}, headers=AUTH, timeout=20)
        assert r.status_code == 400 and reason in r.json()["error"], (path, r.text)
        assert time.monotonic() - started < 10  # refused before reading, not after
    answer = httpx.post(f"{url}/api/ask", json={"question": "How much is the band?"}, timeout=60).json()
    assert "199" in answer["answer"]  # still the first catalog


def test_reload_reads_from_an_allowed_extra_directory(
    site: tuple[str, Any], extra_dir: Path, catalog_dir: Path
) -> None:
    url = site[0]
    r = httpx.post(f"{url}/api/catalog/reload", json={"path": str(extra_dir / "other.yaml")}, headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    assert (
        "189" in httpx.post(f"{url}/api/ask", json={"question": "How much is the band?"}, timeout=60).json()["answer"]
    )
    back = httpx.post(f"{url}/api/catalog/reload", json={"path": str(catalog_dir / "catalog.yaml")}, headers=AUTH)
    assert back.status_code == 200, back.text


def test_only_the_admin_token_reloads_the_catalog(site: tuple[str, Any]) -> None:
    url = site[0]
    for credential in (mint(site, "host"), mint(site, "agent"), mint(site, "viewer"), "x", ADMIN + "x"):
        r = httpx.post(f"{url}/api/catalog/reload", headers={"Authorization": f"Bearer {credential}"})
        assert r.status_code == 401 and "admin token" in r.json()["error"]
    assert httpx.post(f"{url}/api/catalog/reload", headers=AUTH, timeout=60).status_code == 200


# ---- 2. catalog contents reach only the admin ----------------------------------------------------


def test_reload_problems_and_health_details_are_shown_to_the_admin_only(
    site: tuple[str, Any], catalog_dir: Path, clean_log: None
) -> None:
    url = site[0]
    leaky = catalog_dir / "leaky.json"
    leaky.write_text(json.dumps({"store": {"currency": "hunter2secret"}, "api_key": "hunter2secret", "products": []}))
    r = httpx.post(f"{url}/api/catalog/reload", json={"path": str(leaky)}, headers=AUTH, timeout=60)
    assert r.status_code == 400 and r.json()["problems"] and "error" in r.json()
    public = httpx.get(f"{url}/healthz")
    assert public.json()["catalog_ok"] is False and public.json()["catalog_problem_count"] >= 1
    assert "hunter2" not in public.text and str(catalog_dir) not in public.text
    assert "catalog_problems" in httpx.get(f"{url}/healthz", headers=AUTH).json()
    refused = httpx.post(f"{url}/api/catalog/reload", json={"path": str(leaky)}, headers={"Authorization": "Bearer x"})
    assert refused.status_code == 401 and "hunter2" not in refused.text
    assert httpx.post(f"{url}/api/catalog/reload", headers=AUTH, timeout=60).status_code == 200  # good again


# ---- 3. /ws/pcm needs a token, and idle connections are closed -----------------------------------


def test_pcm_needs_a_token_and_tells_why(site: tuple[str, Any], clean_log: None) -> None:
    url = site[0]
    for query in ({}, {"token": mint(site, "viewer")}, {"token": "nonsense"}, {"token": ADMIN + "!!"}):
        with connect(pcm_url(url, **query), open_timeout=20) as ws:
            messages, reason = closed_reason(ws)
        assert "needs a token" in messages[0]["error"] and "needs a token" in reason
    for token in (ADMIN, mint(site, "host"), mint(site, "agent")):
        with connect(pcm_url(url, token=token), open_timeout=20) as ws:
            ws.send(b"\x01")  # a malformed frame is answered: the conversation is open
            assert "even number of bytes" in json.loads(ws.recv(timeout=20))["error"]


def no_conversations(url: str) -> None:
    deadline = time.monotonic() + 20
    while httpx.get(f"{url}/healthz", headers=AUTH).json()["conversations"]:
        assert time.monotonic() < deadline, "earlier conversations did not end"
        time.sleep(0.01)


def test_silent_pcm_connections_are_closed_and_cannot_lock_out_voice(site: tuple[str, Any], clean_log: None) -> None:
    url = site[0]
    no_conversations(url)
    silent = [connect(pcm_url(url, token=ADMIN), open_timeout=20) for _ in range(8)]
    try:
        with connect(pcm_url(url, token=ADMIN), open_timeout=20) as ninth:
            assert "8 spoken conversations" in closed_reason(ninth)[0][0]["error"]
        for ws in silent:  # each is told why it is closed
            messages, reason = closed_reason(ws)
            assert f"no audio for {IDLE_S:g} s" in messages[-1]["error"] and "no audio" in reason
    finally:
        for ws in silent:
            ws.close()
    with connect(pcm_url(url, token=ADMIN), open_timeout=20) as ws:  # a slot is free again
        ws.send(b"\x01")
        assert "even number of bytes" in json.loads(ws.recv(timeout=20))["error"]


def test_a_pcm_client_that_talks_is_answered(site: tuple[str, Any]) -> None:
    url = site[0]
    t = np.arange(int(0.8 * RATE)) / RATE
    speech = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    with connect(pcm_url(url, token=ADMIN), open_timeout=20, max_size=None) as ws:
        step = RATE // 50
        for i in range(0, len(speech), step):
            ws.send(to_pcm16(speech[i : i + step]))
        audio = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and audio < RATE:  # a second of the answer
            message = ws.recv(timeout=30)
            audio += len(message) // 2 if isinstance(message, bytes) else 0
        assert audio >= RATE


# ---- 4. admission: host and agent seats, a cap per token ------------------------------------------


def test_viewers_cannot_take_the_hosts_or_the_agents_seats() -> None:
    room, exp = Room("live"), time.time() + 60
    for i in range(ROLE_SEATS["viewer"]):
        room.join(Pass("live", "viewer", f"v{i}", exp), lambda e: None)
    with pytest.raises(RoomError, match="full"):
        room.join(Pass("live", "viewer", "late", exp), lambda e: None)
    assert room.join(Pass("live", "host", "Host", exp), lambda e: None).role == "host"
    assert room.join(Pass("live", "agent", "Lumi", exp), lambda e: None).role == "agent"


def test_one_token_holds_only_its_seats_and_gives_them_back(site: tuple[str, Any]) -> None:
    url = site[0]
    shared = mint(site, "viewer", "Viewer", seats=3)
    with peers(url, shared, shared, shared) as three:
        assert all(p.first["type"] == "welcome" for p in three)
        with connect(room_socket_url(url, "live", shared), open_timeout=20) as fourth:
            messages, reason = closed_reason(fourth)
        assert "already in use 3 time(s)" in messages[0]["error"] and "already in use" in reason
        with peers(url, mint(site, "host"), mint(site, "viewer")) as others:  # others still get in
            assert [p.first["type"] for p in others] == ["welcome", "welcome"]
        three[0].close()
        three[1].until(lambda e: e["type"] == "left")
        with peers(url, shared) as again:
            assert again[0].first["type"] == "welcome"


# ---- 5. state events are copies; the agent is not rate limited; booleans are booleans ----------


def test_back_to_back_stage_changes_reach_everyone_in_order(site: tuple[str, Any]) -> None:
    url = site[0]
    with peers(url, mint(site, "host"), mint(site, "viewer")) as (host, viewer):
        for _ in range(5):
            host.send({"type": "stage", "product": "watch-gt"})
            host.send({"type": "stage", "product": None})
            for peer in (host, viewer):
                seen = [peer.until(lambda e: e["type"] == "state")["state"]["on_stage"] for _ in range(2)]
                assert seen == ["watch-gt", None]


def test_strings_are_not_booleans_and_unknown_fields_are_refused(site: tuple[str, Any]) -> None:
    url = site[0]
    with peers(url, mint(site, "host")) as (host,):
        for message, reason in (
            ({"type": "agent", "paused": "false"}, "paused: Input should be a valid boolean"),
            ({"type": "agent", "muted": 1}, "muted: Input should be a valid boolean"),
            ({"type": "agent", "pasued": True}, "pasued: Extra inputs are not permitted"),
            ({"type": "stage", "product": 5}, "product"),
            ({"type": "chat", "text": ["hi"]}, "text"),
        ):
            reply = host.request(message)
            assert reply["type"] == "error" and reason in reply["error"], (message, reply)
        assert host.request({"type": "ping"})["type"] == "pong"
        host.send({"type": "agent", "paused": False})
        assert host.until(lambda e: e["type"] == "state")["state"]["agent_paused"] is False


def test_the_agent_answers_a_crowd_in_the_chat_without_being_rate_limited(site: tuple[str, Any]) -> None:
    url = site[0]
    with peers(url, mint(site, "agent", "Lumi"), mint(site, "viewer", "Ann")) as (agent, viewer):
        for i in range(12):
            agent.send({"type": "chat", "text": f"@viewer{i} answer {i}"})
        texts = [viewer.until(lambda e: e["type"] == "chat")["text"] for _ in range(12)]
        assert texts == [f"@viewer{i} answer {i}" for i in range(12)]
        for _ in range(6):
            viewer.send({"type": "chat", "text": "spam"})
        assert "too many chat messages" in viewer.until(lambda e: e["type"] == "error")["error"]


# ---- 6. reasons instead of tracebacks -------------------------------------------------------------


def test_a_binary_frame_on_the_room_socket_gets_a_reason(site: tuple[str, Any], clean_log: None) -> None:
    with peers(site[0], mint(site, "viewer")) as (viewer,):
        viewer.send(b"\x00\x01binary")
        assert "not binary" in viewer.until(lambda e: e["type"] == "error")["error"]
        assert viewer.request({"type": "ping"})["type"] == "pong"


def test_odd_sample_rates_headers_and_deep_json_get_reasons(site: tuple[str, Any], clean_log: None) -> None:
    url = site[0]
    for rate in ("²", "١٦٠٠٠", "16000.0", "-1", "9" * 40):
        with connect(pcm_url(url, token=ADMIN, sample_rate=rate), open_timeout=20) as ws:
            assert "sample_rate must be one of" in closed_reason(ws)[0][0]["error"]
    for header in ("Bearer é".encode(), "Bearer 令牌".encode(), b"Bearer \xff\xfe"):
        r = httpx.post(f"{url}/api/catalog/reload", headers={"Authorization": header})
        assert r.status_code == 401 and "error" in r.json()
        r = httpx.post(f"{url}/api/rooms/live/tokens", json={"role": "viewer"}, headers={"Authorization": header})
        assert r.status_code == 401
    deep = "[" * 15000 + "]" * 15000
    r = httpx.post(f"{url}/api/ask", content=deep, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "nested deeper" in r.json()["error"]
    with peers(url, mint(site, "viewer")) as (viewer,):
        viewer.send('{"type": "chat", "text": ' + "[" * 15000 + "]" * 15000 + "}")
        assert "nested deeper" in viewer.until(lambda e: e["type"] == "error")["error"]
    with connect(pcm_url(url, token=ADMIN), open_timeout=20) as ws:
        ws.send('{"sample_rate": ' + "[" * 1000 + "]" * 1000 + "}")
        assert json.loads(ws.recv(timeout=20))["type"] == "error"


def offer_sdp() -> str:
    """A real aiortc offer: audio, video and a data channel."""
    from aiortc import RTCPeerConnection

    async def make() -> str:
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="sendonly")
        pc.addTransceiver("video", direction="sendonly")
        pc.createDataChannel("captions")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return str(sdp)

    return asyncio.run(make())


def test_malformed_offers_get_reasons_and_a_good_one_still_gets_an_answer(
    site: tuple[str, Any], clean_log: None
) -> None:
    good = offer_sdp()

    def without(prefix: str) -> str:
        return "\r\n".join(line for line in good.split("\r\n") if not line.startswith(prefix))

    cases = {
        without("a=fingerprint"): "a=fingerprint is missing",
        without("a=rtcp-mux"): "a=rtcp-mux is missing",
        without("a=ice-ufrag"): "a=ice-ufrag and a=ice-pwd are missing",
        re.sub(r"m=audio \d+", "m=audio x", good): "not usable SDP",
        good.replace("m=audio", "m=text"): "only audio, video and data channels",
        good.replace("a=rtpmap:", "a=rtpmap:x"): "not usable SDP",
        "v=0\r\n": "no media section",
        good.split("m=")[0]: "no media section",
    }
    with peers(site[0], mint(site, "viewer")) as (viewer,):
        for sdp, reason in cases.items():
            reply = viewer.request({"type": "publish", "sdp": sdp})
            assert reply["type"] == "error" and reason in reply["error"], (reason, reply)
        answer = viewer.request({"type": "publish", "sdp": good}, timeout=30)
        assert answer["type"] == "answer" and answer["sdp"].startswith("v=0")


# ---- 7. a request body is limited while it arrives -------------------------------------------------


def test_a_huge_body_is_refused_at_its_length_before_it_is_read(site: tuple[str, Any], clean_log: None) -> None:
    url = site[0]
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(
            b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 200000000\r\n\r\n{"question": "'
        )  # and nothing more: the answer must not wait for 200 MB
        reply = b""
        while chunk := s.recv(4096):  # the headers and the body may come in separate packets
            reply += chunk
    reply = reply.decode()
    assert reply.startswith("HTTP/1.1 413") and "at most 65536 bytes" in reply
    r = httpx.post(f"{url}/api/ask", content=(b"x" for _ in range(100)), headers={"Content-Type": "application/json"})
    assert r.status_code == 422  # a chunked body under the limit is read and judged as usual
    chunks = (b"x" * 8192 for _ in range(1000))  # 8 MB, chunked: no Content-Length to go by
    r = httpx.post(f"{url}/api/ask", content=chunks, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413 and "at most 65536 bytes" in r.json()["error"]


# ---- 8. exact tokens, empty rooms, one error shape, names of the host and the agent ---------------


def test_a_token_with_characters_added_or_changed_is_refused() -> None:
    tokens = Tokens("secret")
    good = tokens.mint("live", "viewer", "Ann")
    assert tokens.check(good, "live").name == "Ann"
    for bad in (
        good + "!!",
        good + "A",
        good + "=",
        " " + good,
        good[:-1] + "B" if good[-1] != "B" else good[:-1] + "C",
    ):
        with pytest.raises(TokenError):
            tokens.check(bad, "live")


def test_an_empty_room_is_removed_and_the_default_room_kept(site: tuple[str, Any]) -> None:
    url, app = site
    rooms = app.state.rooms
    for i in range(40):  # more than the 32 rooms a server holds at once
        with peers(url, (mint(site, "viewer", room=f"probe{i}"), f"probe{i}")) as (p,):
            assert p.first["type"] == "welcome"
        deadline = time.monotonic() + 20
        while f"probe{i}" in rooms.rooms:
            assert time.monotonic() < deadline, "the empty room was not removed"
            time.sleep(0.01)
    with peers(url, mint(site, "host")) as (host,):
        host.send({"type": "stage", "product": "band"})
        host.until(lambda e: e["type"] == "state")
    with peers(url, mint(site, "viewer")) as (viewer,):
        assert viewer.first["state"]["on_stage"] == "band" and "live" in rooms.rooms


def test_every_refusal_has_one_shape(site: tuple[str, Any]) -> None:
    url = site[0]
    replies = [
        httpx.get(f"{url}/nowhere"),
        httpx.get(f"{url}/api/ask"),  # wrong method
        httpx.post(f"{url}/api/ask", json={}),
        httpx.post(f"{url}/api/ask", json={"question": "hi", "product": "nope"}),
        httpx.post(f"{url}/api/rooms/live/tokens", json={"role": "viewer"}),
        httpx.post(f"{url}/api/rooms/bad%20room/tokens", json={"role": "viewer"}, headers=AUTH),
        httpx.post(f"{url}/api/catalog/reload"),
    ]
    for r in replies:
        assert r.status_code >= 400 and list(r.json()) == ["error"] and r.json()["error"], (r.request.url, r.text)


def test_a_viewer_cannot_appear_as_the_host_or_the_agent(site: tuple[str, Any]) -> None:
    url = site[0]
    with peers(url, mint(site, "host", "Mia")) as _:
        for name in ("Lumi", "lumi ", "HOST", "ｈｏｓｔ", "Agent", "Mia", "M.I.A"):
            with connect(room_socket_url(url, "live", mint(site, "viewer"), name=name), open_timeout=20) as ws:
                messages, reason = closed_reason(ws)
            assert "belongs to the host or the agent" in messages[0]["error"], name
        with peers(url, (mint(site, "viewer"), "live")) as (viewer,):
            assert viewer.first["name"] == "viewer"
        lumina = Peer(url, mint(site, "viewer"), name="Lumina")
        assert lumina.first["name"] == "Lumina"
        lumina.close()


# ---- 9. memory: what a participant leaves behind -------------------------------------------------


def test_a_viewer_who_leaves_leaves_no_relayed_copy_behind(site: tuple[str, Any]) -> None:
    """A guard for issue 16's memory growth: a relayed copy left registered would be fed (audio is
    queued) for as long as the publisher stays, which for the agent is the whole stream."""
    from aiortc import RTCPeerConnection
    from test_room import peak_of_next_frame, tone

    from agent.rtc.client import RoomClient

    url, app = site

    def proxies(publisher_id: str) -> set[Any]:
        room = app.state.rooms.rooms["live"]
        track = room.participants[publisher_id].tracks["audio"]
        return set(room.relay._MediaRelay__proxies.get(track, set()))

    async def run() -> tuple[int, int, int]:
        host = RoomClient(url, "live", mint(site, "host"))
        await host.connect()
        sender = RTCPeerConnection()
        sender.addTrack(tone())
        await host.publish(sender)
        before = len(proxies(host.welcome["id"]))  # the publisher's own drain
        for _ in range(3):  # three viewers in turn listen, then leave
            viewer = RoomClient(url, "live", mint(site, "viewer"))
            await viewer.connect()
            receiver = RTCPeerConnection()
            receiver.addTransceiver("audio", direction="recvonly")
            tracks: asyncio.Queue[Any] = asyncio.Queue()
            receiver.on("track", tracks.put_nowait)
            await viewer.subscribe(host.welcome["id"], receiver)
            track = await asyncio.wait_for(tracks.get(), 20)
            for _ in range(5):
                await peak_of_next_frame(track)
            during = len(proxies(host.welcome["id"]))
            await receiver.close()
            await viewer.close()
            deadline = time.monotonic() + 20
            while len(proxies(host.welcome["id"])) > before:
                assert time.monotonic() < deadline, "the viewer's relayed copy is still fed"
                await asyncio.sleep(0.01)
        after = len(proxies(host.welcome["id"]))
        await sender.close()
        await host.close()
        return before, during, after

    before, during, after = asyncio.run(run())
    assert during == before + 1 and after == before


def test_open_pcm_is_refused_off_loopback() -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "agent", "serve", "--open-pcm", "--host", "0.0.0.0", "--no-voice"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "only on a loopback --host" in done.stderr


def test_pcm_is_open_without_a_token_only_when_asked(host: Host) -> None:
    app = create_app(host, ADMIN, watch_interval=None, voice=FakeVoice(), open_pcm=True)  # type: ignore[arg-type]
    with serving_app(app) as url, connect(pcm_url(url), open_timeout=20) as ws:
        ws.send(b"\x01")
        assert "even number of bytes" in json.loads(ws.recv(timeout=20))["error"]


def test_a_catalog_replaced_by_a_fifo_is_not_read_by_the_watcher(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    catalog = tmp_path / "live.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    app = create_app(build.host(HostOptions(catalog=catalog, composer="catalog")), ADMIN, watch_interval=0.05)
    with TestClient(app) as client:
        catalog.unlink()
        os.mkfifo(catalog)  # a reader of this would wait forever for a writer
        deadline = time.monotonic() + 30
        while not any("not a regular file" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the watcher never looked at the replaced file"
            time.sleep(0.01)
        answer = client.post("/api/ask", json={"question": "How much is the band?"}).json()["answer"]
    assert "199" in answer
