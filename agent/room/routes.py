"""The live room on the app: its pages, its signaling socket, tokens, and the embedded agent.

`livehost serve` runs one room server and, in it, the AI host, which joins the default room
through the same signaling socket as a browser (it could as well join a room elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, WebSocket
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from agent.room.room import ROLE_SEATS, RoomError, Rooms, busy
from agent.room.signaling import room_socket
from agent.room.tokens import MAX_SEATS, TokenError, Tokens, check_room, same_secret
from agent.session.conversation import Stages

log = logging.getLogger("livehost.rtc")
PAGES = Path(__file__).parent / "pages"
REJOIN_S = 2.0
SHARED_LINK_SEATS = ROLE_SEATS["viewer"] // 2  # the viewer link everyone shares: never the whole room


@dataclass(frozen=True)
class RoomOptions:
    room: str = "live"  # the default room, the one `make run` prints links to
    agent_name: str = "Lumi"
    ice_servers: list[dict[str, Any]] = field(default_factory=list)  # STUN/TURN for peers off this machine
    secret: str | None = None  # signs the tokens; None: a new one each start (old links stop working)
    join_url: str | None = None  # where the embedded agent reaches this server; None: no agent in the room
    show: Any = None  # the show the agent hosts while nobody asks (agent/show/runner.py), if any


@dataclass(frozen=True)
class RoomSite:
    is_host: Callable[..., bool]  # (credential, room=None): the admin token or a host token (for that room)
    is_admin: Callable[[str | None], bool]  # the admin token only (catalog reload, health details)
    rooms: Rooms
    agent: Callable[[], Coroutine[Any, Any, None]] | None  # the embedded agent, kept in the room while it runs


class TokenRequest(BaseModel):
    role: str = Field(pattern="^(host|viewer|agent)$")
    name: str = Field(default="", max_length=40)
    ttl_s: float = Field(default=12 * 3600, gt=0, le=7 * 24 * 3600)
    seats: int = Field(default=2, ge=1, le=MAX_SEATS, description="connections this token may hold at once")


def add_room(
    app: FastAPI,
    options: RoomOptions,
    admin_token: str,
    stages_for: Callable[[int], Stages] | None,
    has_product: Callable[[str], bool],
) -> RoomSite:
    """Adds the room's routes; returns what the app's lifespan and host checks need."""
    tokens = Tokens(options.secret)
    rooms = Rooms(options.ice_servers, has_product, reserved_names=(options.agent_name,), kept=(options.room,))
    app.state.tokens, app.state.rooms = tokens, rooms
    shared = tokens.mint(options.room, "viewer", "Viewer", seats=SHARED_LINK_SEATS)
    host_token = tokens.mint(options.room, "host", "Host")
    app.state.links = {
        "host": f"/host?room={options.room}&token={host_token}",
        "viewer": f"/watch?room={options.room}&token={shared}",
        "report": f"/report?token={host_token}",
    }

    def is_admin(credential: str | None) -> bool:
        return same_secret(credential, admin_token)

    def is_host(credential: str | None, room: str | None = None) -> bool:
        if not credential:
            return False
        if is_admin(credential):
            return True
        try:
            tokens.check(credential, room, ("host",))
        except TokenError:
            return False
        return True

    @app.get("/host", include_in_schema=False)
    async def host_page() -> FileResponse:
        return FileResponse(PAGES / "host.html")

    @app.get("/watch", include_in_schema=False)
    async def viewer_page() -> FileResponse:
        return FileResponse(PAGES / "watch.html")

    @app.get("/room.js", include_in_schema=False)
    async def room_script() -> FileResponse:
        return FileResponse(PAGES / "room.js", media_type="text/javascript")

    @app.post("/api/rooms/{room}/tokens")
    async def mint_token(
        room: str, body: TokenRequest, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        try:
            check_room(room)
        except TokenError as e:
            raise HTTPException(422, str(e)) from None
        if not is_host(_bearer(authorization), room):
            raise HTTPException(401, "minting tokens needs the host's credentials: Authorization: Bearer <token>")
        token = tokens.mint(room, body.role, body.name or body.role, body.ttl_s, body.seats)
        page = "host" if body.role == "host" else "watch"
        return {"token": token, "room": room, "role": body.role, "url": f"/{page}?room={room}&token={token}"}

    @app.websocket("/ws/room/{room}")
    async def signaling(socket: WebSocket, room: str) -> None:
        try:
            await room_socket(socket, rooms, tokens, room)
        except Exception:  # one participant's broken connection never takes the room down
            log.exception("room connection failed")

    agent: Callable[[], Coroutine[Any, Any, None]] | None = None
    if stages_for is not None and options.join_url:
        seats = ROLE_SEATS["agent"]  # a rejoin may come before the server has noticed the old connection drop
        token = tokens.mint(options.room, "agent", options.agent_name, ttl_s=10 * 365 * 24 * 3600, seats=seats)
        url, room, name, show = options.join_url, options.room, options.agent_name, options.show

        def agent() -> Coroutine[Any, Any, None]:
            return keep_agent_in_room(url, room, token, stages_for, name, show)

    return RoomSite(is_host, is_admin, rooms, agent)


async def keep_agent_in_room(
    url: str, room: str, token: str, stages_for: Callable[[int], Stages], name: str, show: Any = None
) -> None:
    """The agent joins the room (on this server or another) and joins again whenever its connection
    drops (its show goes on where it was); a room that refuses it (a bad or expired token) is an
    error, raised as RoomError."""
    from agent.rtc.agent_participant import AgentParticipant

    while True:
        agent = AgentParticipant(url, room, token, stages_for, name, show)
        try:
            await agent.run()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await agent.close()
            raise
        except OSError as e:  # the server is not listening yet (at start-up) or has gone
            log.info("the agent cannot reach %s (%s); trying again", url, e)
        except RoomError as e:
            if not agent.id and not busy(e):  # refused at the door (its token): trying again cannot help
                raise
            log.warning("the agent left room '%s' (%s); joining again", room, e)
        except Exception as e:
            log.warning("the agent left room '%s' (%s); joining again", room, e)
        await asyncio.sleep(REJOIN_S)


def ice_server(url: str) -> dict[str, Any]:
    """`stun:host:port` or `turn:user:password@host:port` (also turns:) -> an RTCIceServer's fields."""
    scheme, _, rest = url.partition(":")
    if scheme not in ("stun", "stuns", "turn", "turns") or not rest:
        raise ValueError(f"ICE server '{url}' must look like stun:HOST:PORT or turn:USER:PASSWORD@HOST:PORT")
    credentials, at, address = rest.rpartition("@")
    if not at:
        return {"urls": url}
    username, colon, password = credentials.partition(":")
    if not colon:
        raise ValueError(f"ICE server '{url}': credentials must be USER:PASSWORD")
    return {"urls": f"{scheme}:{address}", "username": username, "credential": password}


def _bearer(authorization: str | None) -> str | None:
    return (authorization or "").removeprefix("Bearer ").strip() or None
