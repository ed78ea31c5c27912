"""The room's signaling socket (`/ws/room/{room}?token=...`): one connection per participant.

Everything a participant does in a room goes through here as JSON messages, the same for a
browser and for the agent: `publish` and `subscribe` (an SDP offer in, the answer back), `chat`,
and, for the host, `stage` (the product on stage) and `agent` (pause/resume it, or mute it:
answers in the chat only). Room
events (`welcome`, `joined`, `left`, `published`, `unpublished`, `chat`, `state`) come back on the
same socket. A request may carry an `id`, echoed in its reply. Anything malformed gets an
`{"type": "error", "error": ...}` reply and the connection goes on; the room never falls over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from agent.rtc.room import Participant, Room, RoomError, Rooms
from agent.rtc.tokens import TokenError, Tokens, check_room

log = logging.getLogger("livehost.signaling")
MAX_MESSAGE_CHARS = 32000
MAX_CHAT_CHARS = 300
CHAT_BURST, CHAT_WINDOW_S = 5, 10.0  # at most this many chat messages per window per participant
OUTBOX_LIMIT = 256  # events queued for a participant that does not read them; more and it is dropped


class ChatLimit:
    def __init__(
        self, burst: int = CHAT_BURST, window_s: float = CHAT_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ):
        self.burst, self.window_s, self.clock = burst, window_s, clock
        self.sent: deque[float] = deque()

    def allow(self) -> bool:
        now = self.clock()
        while self.sent and now - self.sent[0] > self.window_s:
            self.sent.popleft()
        if len(self.sent) >= self.burst:
            return False
        self.sent.append(now)
        return True


async def room_socket(socket: WebSocket, rooms: Rooms, tokens: Tokens, room_name: str) -> None:
    await socket.accept()
    try:
        check_room(room_name)
        granted = tokens.check(socket.query_params.get("token"), room_name)
        room = rooms.get(room_name)
    except (TokenError, RoomError) as e:
        await socket.send_json({"type": "error", "error": str(e)})
        await socket.close(code=1008, reason=str(e)[:120])
        return
    outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(OUTBOX_LIMIT)

    def send(event: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a participant that stops reading misses events
            outbox.put_nowait(event)

    async def deliver() -> None:
        while (event := await outbox.get()) is not None:
            await socket.send_text(json.dumps(event, ensure_ascii=False))

    try:
        participant = room.join(granted, send, socket.query_params.get("name"))
    except RoomError as e:
        await socket.send_json({"type": "error", "error": str(e)})
        await socket.close(code=1008, reason=str(e)[:120])
        return
    sender = asyncio.create_task(deliver())
    chat_limit = ChatLimit()
    try:
        while True:
            text = await socket.receive_text()
            request: dict[str, Any] = {}
            try:
                request = _parse(text)
                reply = await _handle(room, participant, request, chat_limit)
            except (RoomError, ValueError) as e:
                reply = {"type": "error", "error": str(e)}
            except Exception as e:  # a bug in one request must not end the room
                log.exception("room request failed")
                reply = {"type": "error", "error": f"internal error: {type(e).__name__}"}
            if reply is not None:
                if "id" in request:
                    reply["id"] = request["id"]
                send(reply)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        await room.leave(participant)
        send(None)  # type: ignore[arg-type]
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


def _parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValueError(f"a message of {len(text)} characters is over the {MAX_MESSAGE_CHARS} limit")
    try:
        request = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("messages must be JSON objects") from None
    if not isinstance(request, dict) or not isinstance(request.get("type"), str):
        raise ValueError('messages must be JSON objects with a "type"')
    return request


async def _handle(
    room: Room, participant: Participant, request: dict[str, Any], chat_limit: ChatLimit
) -> dict[str, Any] | None:
    kind = request["type"]
    if kind == "publish":
        return {"type": "answer", "sdp": await room.publish(participant, request.get("sdp"))}
    if kind == "subscribe":
        to = request.get("to")
        if not isinstance(to, str):
            raise RoomError('subscribe needs "to": the id of the publishing participant')
        return {"type": "answer", "to": to, "sdp": await room.subscribe(participant, to, request.get("sdp"))}
    if kind == "chat":
        text = request.get("text")
        if not isinstance(text, str) or not text.strip():
            raise RoomError("a chat message needs some text")
        if len(text) > MAX_CHAT_CHARS:
            raise RoomError(f"a chat message of {len(text)} characters is over the {MAX_CHAT_CHARS} limit")
        if not chat_limit.allow():
            raise RoomError(f"too many chat messages: at most {CHAT_BURST} per {CHAT_WINDOW_S:.0f} s")
        event = {"type": "chat", "from": participant.id, "name": participant.name, "role": participant.role}
        room.broadcast({**event, "text": text.strip(), "at": time.time()})
        return None
    if kind in ("stage", "agent"):
        if participant.role != "host":
            raise RoomError(f"only the host can send '{kind}'")
        if kind == "stage":
            product = _optional_text(request.get("product"))
            if product is not None and not room.has_product(product):
                raise RoomError(f"product '{product}' is not in the catalog")
            room.set_state(on_stage=product)
        else:
            changes = {f"agent_{k}": bool(request[k]) for k in ("paused", "muted") if k in request}
            if not changes:
                raise RoomError('"agent" needs "paused" and/or "muted" (true or false)')
            room.set_state(**changes)
        return None
    if kind == "ping":
        return {"type": "pong"}
    raise RoomError(f"unknown message type '{kind[:40]}'")


def _optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise RoomError("product must be a product id (at most 64 characters) or null")
    return value
