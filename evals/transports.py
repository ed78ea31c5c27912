"""How the harness reaches the agent: the WebSocket PCM endpoint, or the live room over WebRTC.

- `websocket`: one viewer on `/ws/pcm` (16-bit PCM both ways, JSON `transcript`/`turn`/`clear`
  messages; the protocol in shared/docs/latency.md that other tools speak too).
- `webrtc`: each viewer is an aiortc peer that joins the room through the same signaling as a
  browser, publishes a 48 kHz microphone (Opus) and, for the first viewer, receives the agent's
  voice and its captions channel. Chat turns go through the room's chat.

Agent audio is stamped with the session clock when it arrives, before anything plays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import numpy as np
import soxr

from agent.audio import RATE, from_pcm16, to_pcm16
from evals.session import Clock, Heard, Said

ROOM_RATE = 48000
SETTLE_S = 2.0  # after joining: the agent subscribes to each new microphone


class TransportError(RuntimeError):
    """The agent cannot be reached, or the scenario needs what this transport cannot carry."""


class _Inbox:
    def __init__(self) -> None:
        self.items: list[Heard | Said] = []
        self.clock: Clock | None = None

    def audio(self, pcm: np.ndarray) -> None:
        assert self.clock is not None
        self.items.append(Heard(self.clock.now(), pcm))

    def message(self, message: dict[str, Any]) -> None:
        assert self.clock is not None
        self.items.append(Said(self.clock.now(), message))

    def drain(self) -> list[Heard | Said]:
        items, self.items = self.items, []
        return items


class WebSocketTransport:
    name = "websocket"
    flushes_on_clear = True

    def __init__(self, url: str):
        self.url = url
        self.inbox = _Inbox()
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self, viewers: list[str], clock: Clock) -> None:
        import websockets

        if len(viewers) > 1:
            raise TransportError(f"the WebSocket endpoint carries one viewer, this scenario has {len(viewers)}: "
                                 "run it with --transport webrtc")  # fmt: skip
        self.inbox.clock = clock
        try:
            self._socket = await websockets.connect(self.url, max_size=2**22)
        except (OSError, websockets.InvalidHandshake, websockets.InvalidURI) as e:
            raise TransportError(f"cannot connect to {self.url}: {e}") from None
        await self._socket.send(json.dumps({"type": "start", "sample_rate": RATE}))
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for message in self._socket:
                if isinstance(message, bytes):
                    self.inbox.audio(from_pcm16(message))
                else:
                    with contextlib.suppress(ValueError):
                        self.inbox.message(json.loads(message))

    async def send(self, viewer: str, frame: np.ndarray) -> None:
        try:
            await self._socket.send(to_pcm16(frame))
        except Exception as e:
            raise TransportError(f"the agent closed the connection: {e}") from None

    async def chat(self, viewer: str, text: str) -> None:
        raise TransportError("the WebSocket endpoint has no chat: run chat turns with --transport webrtc")

    def drain(self) -> list[Heard | Said]:
        return self.inbox.drain()

    async def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(self._reader, 2.0)


class WebRtcTransport:
    name = "webrtc"
    flushes_on_clear = False  # a WebRTC player has no such message: what arrives plays

    def __init__(self, page_url: str, token_for: Callable[[str], str] | None = None):
        """`page_url`: a room page link with `room` and `token` (what `make run` prints), or a server URL
        with `token_for(viewer) -> token` (the harness mints one per viewer when it started the server)."""
        parts = urllib.parse.urlsplit(page_url)
        query = urllib.parse.parse_qs(parts.query)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.room = query.get("room", ["live"])[0]
        token = query.get("token", [None])[0]
        if token is None and token_for is None:
            raise TransportError(f"{page_url}: give the viewer link with its token (…/watch?room=live&token=…)")
        self.token_for: Callable[[str], str] = token_for or (lambda viewer: str(token))
        self.inbox = _Inbox()
        self.viewers: dict[str, tuple[Any, Any, Any, Any]] = {}  # name -> (client, microphone, pc, resampler)
        self.listener: Any = None
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, viewers: list[str], clock: Clock) -> None:
        from aiortc import RTCPeerConnection

        from agent.room.room import RoomError
        from agent.rtc.client import RoomClient
        from evals.room import Microphone

        self.inbox.clock = clock
        for name in viewers:
            client = RoomClient(self.base, self.room, self.token_for(name), name=name)
            try:
                await client.connect()
            except (OSError, RoomError) as e:
                raise TransportError(f"cannot join room '{self.room}' at {self.base} as {name}: {e}") from None
            microphone, pc = Microphone(), RTCPeerConnection()
            pc.addTrack(microphone)
            await client.publish(pc)
            resampler = soxr.ResampleStream(RATE, ROOM_RATE, 1, dtype="float32", quality="HQ")
            self.viewers[name] = (client, microphone, pc, resampler)
            self.tasks.append(asyncio.create_task(self._chat_events(client)))
        await self._listen(self.viewers[viewers[0]][0])
        await asyncio.sleep(SETTLE_S)

    async def _listen(self, client: Any) -> None:
        from aiortc import RTCPeerConnection

        agent = next((p for p in client.welcome["participants"] if p["role"] == "agent"), None)
        if agent is None or "audio" not in agent.get("publishes", []):
            raise TransportError(f"no agent is publishing in room '{self.room}' (is the agent running?)")
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="recvonly")
        channel = pc.createDataChannel("captions")
        channel.on("message", lambda m: self._caption(m))
        pc.on("track", lambda track: self.tasks.append(asyncio.ensure_future(self._hear(track))))
        await client.subscribe(agent["id"], pc)
        self.listener = pc

    def _caption(self, raw: str) -> None:
        with contextlib.suppress(ValueError):
            self.inbox.message(json.loads(raw))

    async def _hear(self, track: Any) -> None:
        from agent.rtc.agent_participant import mono

        resampler = None
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                if resampler is None:
                    resampler = soxr.ResampleStream(frame.sample_rate, RATE, 1, dtype="float32", quality="HQ")
                self.inbox.audio(resampler.resample_chunk(mono(frame)))

    async def _chat_events(self, client: Any) -> None:
        while (event := await client.events.get())["type"] != "closed":
            if event["type"] == "chat" and event.get("role") == "agent":
                self.inbox.message(event)

    async def send(self, viewer: str, frame: np.ndarray) -> None:
        _, microphone, _, resampler = self.viewers[viewer]
        microphone.say(resampler.resample_chunk(frame))

    async def chat(self, viewer: str, text: str) -> None:
        await self.viewers[viewer][0].send({"type": "chat", "text": text})

    def drain(self) -> list[Heard | Said]:
        return self.inbox.drain()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for client, _, pc, _ in self.viewers.values():
            with contextlib.suppress(Exception):
                await pc.close()
            with contextlib.suppress(Exception):
                await client.close()
        if self.listener is not None:
            with contextlib.suppress(Exception):
                await self.listener.close()
