"""A room participant's side of signaling, in Python: what a browser page does, for aiortc peers.

The agent joins rooms with it (on this server or another one), and so can benchmark clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import urllib.parse
from typing import Any

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription

from agent.room.room import RoomError

REPLY_TIMEOUT_S = 20.0


def room_socket_url(base_url: str, room: str, token: str, **extra: str) -> str:
    """`http(s)://host:port` -> the room's signaling WebSocket URL."""
    parts = urllib.parse.urlsplit(base_url)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    query = urllib.parse.urlencode({"token": token, **extra})
    return f"{scheme}://{parts.netloc}/ws/room/{urllib.parse.quote(room)}?{query}"


class RoomClient:
    def __init__(self, base_url: str, room: str, token: str, name: str = ""):
        self.url = room_socket_url(base_url, room, token, **({"name": name} if name else {}))
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()  # room events, in order
        self.welcome: dict[str, Any] = {}
        self._socket: Any = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> dict[str, Any]:
        self._socket = await websockets.connect(self.url, max_size=2**20)
        first = json.loads(await self._socket.recv())
        if first.get("type") != "welcome":
            await self._socket.close()
            raise RoomError(first.get("error") or f"the room answered {first!r}")
        self.welcome = first
        self._reader = asyncio.create_task(self._read())
        return first

    async def _read(self) -> None:
        try:
            async for raw in self._socket:
                event = json.loads(raw)
                waiter = self._pending.pop(event.get("id", -1), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(event)
                else:
                    self.events.put_nowait(event)
        finally:
            self.events.put_nowait({"type": "closed"})
            for waiter in self._pending.values():
                if not waiter.done():
                    waiter.set_exception(RoomError("the room closed the connection"))

    async def send(self, message: dict[str, Any]) -> None:
        await self._socket.send(json.dumps(message, ensure_ascii=False))

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send a request and wait for its reply; RoomError carries the room's reason."""
        request_id = next(self._ids)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = waiter
        await self.send({**message, "id": request_id})
        reply = await asyncio.wait_for(waiter, REPLY_TIMEOUT_S)
        if reply.get("type") == "error":
            raise RoomError(reply.get("error", "the room refused"))
        return reply

    async def publish(self, pc: RTCPeerConnection) -> None:
        """Offer `pc`'s tracks (and data channel) to the room."""
        await pc.setLocalDescription(await pc.createOffer())
        reply = await self.request({"type": "publish", "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))

    async def subscribe(self, publisher_id: str, pc: RTCPeerConnection) -> None:
        """Receive `publisher_id`'s media on `pc` (its receiving transceivers are set up by the caller)."""
        await pc.setLocalDescription(await pc.createOffer())
        reply = await self.request({"type": "subscribe", "to": publisher_id, "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
