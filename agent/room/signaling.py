"""The room's signaling socket (`/ws/room/{room}?token=...`): one connection per participant.

Everything a participant does in a room goes through here as JSON messages, the same for a
browser and for the agent: `publish` and `subscribe` (an SDP offer in, the answer back), `chat`,
and, for the host, `stage` (the product on stage; the agent sends it too, for the product its show
presents), `agent` (pause/resume it, or mute it: answers in the chat only) and `show` (pause or
resume the show, skip to its next segment, repeat it, go to a segment, change the order); the
agent publishes its show's `rundown` (segments and the one presented), kept in the room's state. Room
events (`welcome`, `joined`, `left`, `published`, `unpublished`, `chat`, `state`) come back on the
same socket. A request may carry an `id`, echoed in its reply (`{"type": "ok"}` when there is
nothing else to say). Every message has a strict schema
(`MESSAGES`: no unknown fields, booleans are booleans); anything malformed gets an
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
from typing import Annotated, Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from agent.room.room import Participant, Room, RoomError, Rooms
from agent.room.tokens import TokenError, Tokens, check_room

log = logging.getLogger("livehost.signaling")
MAX_MESSAGE_CHARS = 32000
MAX_JSON_DEPTH = 32  # deeper JSON is refused before it is parsed (the parser recurses)
MAX_CHAT_CHARS = 300
CHAT_BURST, CHAT_WINDOW_S = 5, 10.0  # at most this many chat messages per window per participant
MAX_SEGMENTS = 500  # a show's rundown, as the agent publishes it to the room
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


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    type: StrictStr
    id: int | Annotated[str, Field(max_length=64)] | None = None  # echoed in the reply


class Publish(_Message):
    sdp: StrictStr


class Subscribe(_Message):
    to: Annotated[str, Field(max_length=40)]
    sdp: StrictStr


class Chat(_Message):
    text: StrictStr


class Stage(_Message):
    product: Annotated[str, Field(max_length=64)] | None = None  # null or "": nothing on stage


class AgentControl(_Message):
    paused: StrictBool | None = None
    muted: StrictBool | None = None


class ShowControl(_Message):
    paused: StrictBool | None = None  # the show waits (the agent still answers)
    skip: StrictBool | None = None  # on to the next segment now
    repeat: StrictBool | None = None  # the segment being presented, again from its start
    go_to: Annotated[int, Field(ge=0, lt=MAX_SEGMENTS)] | None = None  # present the segment at this place now
    order: Annotated[list[Annotated[int, Field(ge=0)]], Field(max_length=MAX_SEGMENTS)] | None = None  # new order


class RundownSegment(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    product: Annotated[str, Field(max_length=64)]
    language: Annotated[str, Field(max_length=8)]
    name: Annotated[str, Field(max_length=120)]


class RundownState(_Message):
    segments: Annotated[list[RundownSegment], Field(max_length=MAX_SEGMENTS)]
    current: Annotated[int, Field(ge=0)]


class Ping(_Message):
    pass


MESSAGES: dict[str, type[_Message]] = {
    "publish": Publish,
    "subscribe": Subscribe,
    "chat": Chat,
    "stage": Stage,
    "agent": AgentControl,
    "show": ShowControl,
    "rundown": RundownState,
    "ping": Ping,
}


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
    outbox: asyncio.Queue[str | None] = asyncio.Queue(OUTBOX_LIMIT)

    def send(event: dict[str, Any] | None) -> None:
        # written out now: an event says what was true when it happened, whatever changes later
        with contextlib.suppress(asyncio.QueueFull):  # a participant that stops reading misses events
            outbox.put_nowait(None if event is None else json.dumps(event, ensure_ascii=False))

    async def deliver() -> None:
        while (event := await outbox.get()) is not None:
            await socket.send_text(event)

    try:
        participant = room.join(granted, send, socket.query_params.get("name"))
    except RoomError as e:
        rooms.forget_if_empty(room)
        await socket.send_json({"type": "error", "error": str(e)})
        await socket.close(code=1008, reason=str(e)[:120])
        return
    sender = asyncio.create_task(deliver())
    chat_limit = ChatLimit()
    try:
        while True:
            received = await socket.receive()
            if received["type"] == "websocket.disconnect":
                break
            request: dict[str, Any] = {}
            try:
                request = _parse(received.get("text"))
                reply = await _handle(room, participant, request, chat_limit)
            except (RoomError, ValueError) as e:
                reply = {"type": "error", "error": str(e)}
            except Exception as e:  # a bug in one request must not end the room
                log.exception("room request failed")
                reply = {"type": "error", "error": f"internal error: {type(e).__name__}"}
            answerable = isinstance(request.get("id"), int | str)
            if reply is None and answerable:
                reply = {"type": "ok"}  # a request with an id always hears back
            if reply is not None:
                if answerable:
                    reply["id"] = request["id"]
                send(reply)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        await room.leave(participant)
        rooms.forget_if_empty(room)
        send(None)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


def _check_move(rundown: dict[str, Any] | None, message: ShowControl) -> None:
    """A place or an order must fit the rundown the agent published."""
    if message.go_to is None and message.order is None:
        return
    if not rundown or not rundown.get("segments"):
        raise RoomError("no show is running in this room (serve --show)")
    size = len(rundown["segments"])
    if message.go_to is not None and message.go_to >= size:
        raise RoomError(f"the show has segments 0 to {size - 1}, not {message.go_to}")
    if message.order is not None and sorted(message.order) != list(range(size)):
        raise RoomError(f"a new order lists each of the {size} segments' places (0 to {size - 1}) once")


def json_depth_over(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests deeper than `limit` ([ and { outside strings); checked before parsing."""
    depth, in_string, escaped = 0, False, False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > limit:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _parse(text: str | None) -> dict[str, Any]:
    if text is None:
        raise ValueError("messages must be JSON text, not binary")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValueError(f"a message of {len(text)} characters is over the {MAX_MESSAGE_CHARS} limit")
    if json_depth_over(text):
        raise ValueError(f"a message nested deeper than {MAX_JSON_DEPTH} levels is refused")
    try:
        request = json.loads(text)
    except ValueError:  # also a number too long to convert
        raise ValueError("messages must be JSON objects") from None
    if not isinstance(request, dict) or not isinstance(request.get("type"), str):
        raise ValueError('messages must be JSON objects with a "type"')
    return request


def _validate(request: dict[str, Any]) -> _Message:
    kind = request["type"]
    schema = MESSAGES.get(kind)
    if schema is None:
        raise RoomError(f"unknown message type '{kind[:40]}'")
    try:
        return schema.model_validate(request)
    except ValidationError as e:
        reasons = [f"{'.'.join(str(p) for p in err['loc']) or kind}: {err['msg']}" for err in e.errors()[:3]]
        raise RoomError(f"'{kind}' message: {'; '.join(reasons)}") from None


async def _handle(
    room: Room, participant: Participant, request: dict[str, Any], chat_limit: ChatLimit
) -> dict[str, Any] | None:
    message = _validate(request)
    if isinstance(message, Publish):
        return {"type": "answer", "sdp": await room.publish(participant, message.sdp)}
    if isinstance(message, Subscribe):
        sdp = await room.subscribe(participant, message.to, message.sdp)
        return {"type": "answer", "to": message.to, "sdp": sdp}
    if isinstance(message, Chat):
        text = message.text
        if not text.strip():
            raise RoomError("a chat message needs some text")
        if len(text) > MAX_CHAT_CHARS:
            raise RoomError(f"a chat message of {len(text)} characters is over the {MAX_CHAT_CHARS} limit")
        # the agent answers every viewer who asks in the chat: it is not held to one viewer's pace
        if participant.role != "agent" and not chat_limit.allow():
            raise RoomError(f"too many chat messages: at most {CHAT_BURST} per {CHAT_WINDOW_S:.0f} s")
        event = {"type": "chat", "from": participant.id, "name": participant.name, "role": participant.role}
        room.broadcast({**event, "text": text.strip(), "at": time.time()})
        return None
    if isinstance(message, ShowControl):
        if participant.role != "host":
            raise RoomError("only the host can send 'show'")
        asked: dict[str, Any] = {"skip": message.skip, "repeat": message.repeat, "go_to": message.go_to}
        moves = {k: v for k, v in {**asked, "order": message.order}.items() if v is not None and v is not False}
        if message.paused is None and not moves:
            raise RoomError('"show" needs "paused" (true or false), "skip" or "repeat": true, "go_to" or "order"')
        if len(moves) > 1:
            raise RoomError(f'"show" moves one way at a time, not {" and ".join(moves)}')
        _check_move(room.state.get("rundown"), message)
        if message.paused is not None:
            room.set_state(show_paused=message.paused)
        if moves:
            room.broadcast({"type": "show", **moves})
        return None
    if isinstance(message, RundownState):
        if participant.role != "agent":
            raise RoomError("only the agent publishes its show's rundown")
        if message.segments and message.current >= len(message.segments):
            size = len(message.segments)
            raise RoomError(f"'rundown' message: current {message.current} is past its {size} segments")
        room.set_state(rundown=message.model_dump(exclude={"type", "id"}))
        return None
    if isinstance(message, Stage | AgentControl):
        # the agent puts on stage the product its show presents; only the host controls the agent
        if participant.role != "host" and not (participant.role == "agent" and isinstance(message, Stage)):
            raise RoomError(f"only the host can send '{message.type}'")
        if isinstance(message, Stage):
            product = message.product or None
            if product is not None and not room.has_product(product):
                raise RoomError(f"product '{product}' is not in the catalog")
            room.set_state(on_stage=product)
        else:
            changes = {
                f"agent_{k}": v for k, v in (("paused", message.paused), ("muted", message.muted)) if v is not None
            }
            if not changes:
                raise RoomError('"agent" needs "paused" and/or "muted" (true or false)')
            room.set_state(**changes)
        return None
    return {"type": "pong"}
