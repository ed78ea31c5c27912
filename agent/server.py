"""The agent's HTTP server: an ask page, a JSON answer API, the voice endpoint and catalog administration.

`/ws/pcm` holds spoken conversations (see agent/pcm_socket.py); the live room (pages, signaling,
the agent as a participant) is added by agent/rtc/routes.py. Every malformed request gets a 4xx
with a reason, and no viewer input can stop the server.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from agent.host import Host
from agent.pcm_socket import RATES, parse_rate, pcm_conversation
from agent.rtc.routes import RoomOptions, add_room
from agent.voice import SerialEngine, VoiceModels

log = logging.getLogger("livehost.server")
PAGES = Path(__file__).parent / "pages"
MAX_QUESTION_CHARS = 500
MAX_CONVERSATIONS = 8  # spoken conversations at once; each costs ASR and TTS time on a shared CPU


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    product: str | None = Field(default=None, max_length=64, description="the product on stage")


class ReloadRequest(BaseModel):
    path: str | None = Field(default=None, max_length=4096, description="another catalog file; default: the same")


async def watch_catalog(host: Host, interval: float) -> None:
    """Reload the catalog when its file changes; a broken edit is logged and the last good one kept."""
    seen = _mtime(host.catalog.path)
    while True:
        await asyncio.sleep(interval)
        now = _mtime(host.catalog.path)
        if now == seen:
            continue
        seen = now
        problems = await asyncio.to_thread(host.reload_catalog)
        for problem in problems:
            log.error("catalog not reloaded, still answering from the last good one: %s", problem)
        if not problems:
            log.warning("catalog reloaded from %s", host.catalog.path)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def create_app(
    host: Host,
    admin_token: str | None = None,
    watch_interval: float | None = 2.0,
    voice: VoiceModels | None = None,
    room: RoomOptions | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(watch_catalog(host, watch_interval))] if watch_interval else []
        if site.agent is not None:
            tasks.append(asyncio.create_task(site.agent()))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await site.rooms.close()

    app = FastAPI(title="livehost", version="0.1.0", lifespan=lifespan)
    token = admin_token or secrets.token_urlsafe(18)
    app.state.host, app.state.admin_token = host, token
    engine = SerialEngine(host.engine)  # one model, one answer at a time, for text and voice alike
    conversations: set[WebSocket] = set()
    stages_for = (lambda rate: voice.stages(engine, rate)) if voice is not None else None
    site = add_room(
        app, room or RoomOptions(), token, stages_for, lambda p: host.catalog.current.catalog.has_product(p)
    )

    def require_host(authorization: Annotated[str | None, Header()] = None) -> None:
        if not site.is_host((authorization or "").removeprefix("Bearer ").strip() or None):
            raise HTTPException(401, "this endpoint needs the host's token: Authorization: Bearer <token>")

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "; ".join(reasons)}, status_code=422)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:  # a bug must not take the host down
        log.exception("request failed")
        return JSONResponse({"error": f"internal error: {type(exc).__name__}"}, status_code=500)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGES / "ask.html")

    @app.get("/healthz")
    async def health() -> dict[str, Any]:
        return {
            "ok": True,
            "catalog": str(host.catalog.path),
            "catalog_problems": [str(p) for p in host.catalog.last_problems],
            "answers": host.composer_note,
            "voice": voice is not None,
            "conversations": len(conversations),
            "rooms": {name: [p.role for p in r.participants.values()] for name, r in app.state.rooms.rooms.items()},
        }

    @app.get("/api/products")
    async def products() -> list[dict[str, Any]]:
        catalog = host.catalog.current.catalog
        return [{"id": p.id, "name": {"zh": p.name.zh, "en": p.name.en}, "price": p.price} for p in catalog.products]

    @app.post("/api/ask")
    async def ask(body: AskRequest) -> dict[str, Any]:
        if not body.question.strip():
            raise HTTPException(422, "question: is empty")
        if body.product and not host.catalog.current.catalog.has_product(body.product):
            raise HTTPException(404, f"product '{body.product}' is not in the catalog")
        answer = await asyncio.to_thread(engine.answer, body.question, body.product)
        return answer.to_json()

    @app.post("/api/catalog/reload", dependencies=[Depends(require_host)])
    async def reload(body: ReloadRequest | None = None) -> JSONResponse:
        problems = await asyncio.to_thread(host.reload_catalog, body.path if body else None)
        if problems:
            return JSONResponse(
                {"ok": False, "kept": str(host.catalog.path), "problems": [str(p) for p in problems]}, status_code=400
            )
        return JSONResponse({"ok": True, "catalog": str(host.catalog.path)})

    @app.websocket("/ws/pcm")
    async def pcm(socket: WebSocket) -> None:
        await socket.accept()
        rate, product = parse_rate(socket.query_params.get("sample_rate")), socket.query_params.get("product")
        problem = None
        if voice is None:
            problem = "this server runs without voice (started with --no-voice)"
        elif rate is None:
            problem = f"sample_rate must be one of {', '.join(map(str, RATES))}"
        elif product and not host.catalog.current.catalog.has_product(product):
            problem = f"product '{product}' is not in the catalog"
        elif len(conversations) >= MAX_CONVERSATIONS:
            problem = f"the agent already holds {MAX_CONVERSATIONS} spoken conversations; try again later"
        if problem or voice is None or rate is None:
            await socket.send_json({"type": "error", "error": problem})
            await socket.close(code=1008, reason=(problem or "")[:120])
            return
        conversations.add(socket)
        try:
            await pcm_conversation(socket, stages_for, product, rate)  # type: ignore[arg-type]
        except Exception:  # a broken connection ends that conversation, never the server
            log.exception("spoken conversation failed")
        finally:
            conversations.discard(socket)

    return app
