"""The agent's HTTP server: an ask page, a JSON answer API, the voice endpoint and catalog administration.

`/ws/pcm` holds spoken conversations (see agent/transports/pcm_socket.py); the live room (pages, signaling,
the agent as a participant) is added by agent/room/routes.py. Every malformed request gets a 4xx
with a reason in one shape, `{"error": ...}`, and no viewer input can stop the server. What each
token may do, and the limits, are in SECURITY.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.app.build import answerer
from agent.app.host import Host
from agent.app.live_routes import add_live_routes
from agent.app.metrics import Metrics, resident_bytes
from agent.app.voice import VoiceModels
from agent.room.routes import RoomOptions, add_room
from agent.room.signaling import MAX_JSON_DEPTH, json_depth_over
from agent.room.tokens import TokenError
from agent.session.conversation import Stages
from agent.show.card import product_card
from agent.show.report import ShowReport
from agent.show.rundown import segment_lines
from agent.transports.pcm_socket import IDLE_S, RATES, parse_rate, pcm_conversation
from agent.workers import in_thread
from knowledge.catalog import Catalog, Product

log = logging.getLogger("livehost.server")
PAGES = Path(__file__).parent / "pages"
MAX_QUESTION_CHARS = 500
VIEWER_SAMPLE_S = 60.0  # how often the report counts the viewers in the rooms
MAX_CONVERSATIONS = 8  # spoken conversations at once; each costs ASR and TTS time on a shared CPU
MAX_BODY_BYTES = 64 * 1024  # every JSON API takes far less; a bigger body is refused while it arrives
MAX_CATALOG_BYTES = 20 * 1024 * 1024
CATALOG_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".xlsx")
PCM_ROLES = ("host", "agent")  # room tokens that may also open /ws/pcm (besides the admin token)
ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class BodyLimit:
    """Refuses an HTTP request body over `limit` bytes, or JSON nested too deep to parse, before the
    app sees it: a 200 MB body is turned away at its Content-Length or as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            return await _refuse(send, 413, f"a request body is at most {self.limit} bytes")
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.limit:
                return await _refuse(send, 413, f"a request body is at most {self.limit} bytes")
            if not message.get("more_body"):
                break
        if json_depth_over(body.decode("utf-8", "replace")):
            return await _refuse(send, 422, f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels is refused")
        replayed = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()  # only the disconnect can follow
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return await self.app(scope, replay, send)


async def _refuse(send: Any, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class CatalogPathError(ValueError):
    """A reload path the server will not read; the message says why without reading the file."""


def catalog_file(path: str | Path, allowed: list[Path]) -> Path:
    """The catalog file at `path` if it may be read: inside an allowed directory (after following
    links), a regular file (not a device or a FIFO), with a catalog's suffix and at most 20 MB."""
    target = Path(path) if Path(path).is_absolute() else allowed[0] / path
    try:
        real = target.resolve()  # links followed: a link out of the directory is outside it
    except (OSError, RuntimeError, ValueError):
        raise CatalogPathError(f"'{target.name}' cannot be resolved") from None
    if not any(real.is_relative_to(d) for d in allowed):
        raise CatalogPathError("catalogs are reloaded only from the catalog's directory (or --catalog-dir)")
    if real.suffix.lower() not in CATALOG_SUFFIXES:
        raise CatalogPathError(f"a catalog is a {', '.join(CATALOG_SUFFIXES)} file")
    try:
        info = real.stat()
    except OSError:
        raise CatalogPathError(f"'{target.name}' does not exist in the catalog directory") from None
    if not stat.S_ISREG(info.st_mode):
        raise CatalogPathError(f"'{target.name}' is not a regular file")
    if info.st_size > MAX_CATALOG_BYTES:
        raise CatalogPathError(f"'{target.name}' is larger than {MAX_CATALOG_BYTES // 2**20} MB")
    return real


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    product: str | None = Field(default=None, max_length=64, description="the product on stage")


class ReloadRequest(BaseModel):
    path: str | None = Field(default=None, max_length=4096, description="another catalog file; default: the same")


async def watch_catalog(host: Host, interval: float, allowed: list[Path], lock: asyncio.Lock) -> None:
    """Reload the catalog when its file changes; a broken edit is logged and the last good one kept."""
    seen = _mtime(host.catalog.path)
    while True:
        await asyncio.sleep(interval)
        now = _mtime(host.catalog.path)
        if now == seen:
            continue
        seen = now
        try:
            path = catalog_file(host.catalog.path, allowed)
        except CatalogPathError as e:
            log.error("catalog not reloaded, still answering from the last good one: %s", e)
            continue
        async with lock:
            problems = await in_thread(host.reload_catalog, path)
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
    catalog_dirs: list[Path] | None = None,
    open_pcm: bool = False,
    pcm_idle_s: float = IDLE_S,
    report: ShowReport | None = None,
) -> FastAPI:
    """The app. `catalog_dirs`: directories reloads may read from besides the starting catalog's;
    `open_pcm`: /ws/pcm without a token (benchmarks on loopback)."""
    allowed = [host.catalog.path.resolve().parent, *(Path(d).resolve() for d in catalog_dirs or [])]
    reloading = asyncio.Lock()  # one reload at a time: reloads never take all the worker threads

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        watcher = watch_catalog(host, watch_interval, allowed, reloading) if watch_interval else None
        tasks = [asyncio.create_task(watcher)] if watcher else []
        if site.agent is not None:
            tasks.append(asyncio.create_task(site.agent()))
        tasks.append(asyncio.create_task(count_viewers()))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await site.rooms.close()
        shown.save()

    async def count_viewers() -> None:
        while True:
            shown.sample_viewers(int(participants("viewer")))
            await asyncio.sleep(VIEWER_SAMPLE_S)

    app = FastAPI(title="livehost", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodyLimit)
    token = admin_token or secrets.token_urlsafe(18)
    app.state.host, app.state.admin_token = host, token
    engine = answerer(host)  # one model, one answer at a time, for text and voice alike
    conversations: set[WebSocket] = set()
    metrics = app.state.metrics = Metrics()
    shown = app.state.report = report or ShowReport()

    def finished(turn: dict[str, Any]) -> None:
        metrics.observe_turn(turn)  # every finished turn is counted, timed and logged
        shown.turn(turn)  # and goes into the show report

    def voice_stages(rate: int) -> Stages:
        assert voice is not None
        stages = voice.stages(engine, rate)
        stages.on_turn = finished
        return stages

    stages_for = voice_stages if voice is not None else None

    def has_product(product_id: str) -> bool:
        return host.catalog.current.catalog.has_product(product_id)

    def on_catalog(product_id: str) -> tuple[Catalog, Product]:
        """The current catalog and its product, or one 404 with the reason."""
        catalog = host.catalog.current.catalog
        if not catalog.has_product(product_id):
            raise HTTPException(404, f"product '{product_id[:80]}' is not in the catalog")
        return catalog, catalog.product(product_id)

    site = add_room(app, room or RoomOptions(), token, stages_for, has_product)
    if room is not None and room.show is not None:
        room.show.watchers.append(shown.segment)

    add_live_routes(app, host.live, site.is_host, has_product)

    def bearer(authorization: str | None) -> str | None:
        return (authorization or "").removeprefix("Bearer ").strip() or None

    def require_admin(authorization: Annotated[str | None, Header()] = None) -> None:
        if not site.is_admin(bearer(authorization)):
            raise HTTPException(401, "this endpoint needs the admin token: Authorization: Bearer <token>")

    def may_speak(credential: str | None) -> bool:
        if site.is_admin(credential):
            return True
        try:
            app.state.tokens.check(credential, None, PCM_ROLES)
        except TokenError:
            return False
        return True

    @app.exception_handler(StarletteHTTPException)
    async def refused(_: Request, exc: StarletteHTTPException) -> JSONResponse:  # one error shape everywhere
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "; ".join(reasons)}, status_code=422)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:  # a bug must not take the host down
        log.exception("request failed")
        metrics.error("http")
        return JSONResponse({"error": f"internal error: {type(exc).__name__}"}, status_code=500)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGES / "ask.html")

    @app.get("/healthz")
    async def health(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """Anyone sees whether it is up; only the admin sees the catalog's path and its problems
        (a problem quotes the file, and the file may not be the seller's to show)."""
        problems = host.catalog.last_problems
        public = {
            "ok": True,
            "catalog_ok": not problems,
            "catalog_problem_count": len(problems),
            "answers": host.composer_note,
            "voice": voice is not None,
            "rooms": {name: [p.role for p in r.participants.values()] for name, r in app.state.rooms.rooms.items()},
        }
        if not site.is_admin(bearer(authorization)):
            return public
        detail = {"catalog": str(host.catalog.path), "catalog_problems": [str(p) for p in problems]}
        return {**public, **detail, "conversations": len(conversations)}

    def participants(role: str) -> float:
        return float(sum(p.role == role for r in app.state.rooms.rooms.values() for p in r.participants.values()))

    metrics.gauge("livehost_viewers", "viewers in the rooms", lambda: participants("viewer"))
    metrics.gauge("livehost_agents", "AI hosts in the rooms", lambda: participants("agent"))
    metrics.gauge("livehost_pcm_conversations", "spoken conversations on /ws/pcm", lambda: float(len(conversations)))
    metrics.gauge("livehost_answers_waiting", "questions waiting for the answer engine", lambda: float(engine.waiting))
    metrics.gauge(
        "livehost_catalog_problems",
        "problems of the last catalog reload",
        lambda: float(len(host.catalog.last_problems)),
    )
    metrics.gauge("process_resident_memory_bytes", "resident memory of the process", resident_bytes)

    @app.get("/metrics", dependencies=[Depends(require_admin)], include_in_schema=False)
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/readyz")
    async def ready() -> JSONResponse:
        """Ready to take viewers: a catalog is loaded and, with voice, the AI host is in its room."""
        waiting = []
        if voice is not None and site.agent is not None and not participants("agent"):
            waiting.append("the AI host has not joined its room yet")
        body = {"ready": not waiting, **({"waiting_for": waiting} if waiting else {})}
        return JSONResponse(body, status_code=503 if waiting else 200)

    @app.get("/api/products")
    async def products() -> list[dict[str, Any]]:
        catalog = host.catalog.current.catalog
        return [{"id": p.id, "name": {"zh": p.name.zh, "en": p.name.en}, "price": p.price} for p in catalog.products]

    @app.get("/api/products/{product_id}")
    async def product(product_id: str) -> dict[str, Any]:
        """The product card the pages show while the product is on stage."""
        card = product_card(*on_catalog(product_id))
        # the operator's offers for it right now, in their own words
        card["offers"] = [{"zh": f.text.zh, "en": f.text.en} for f in host.live.active(product_id) if f.kind != "stock"]
        return card

    @app.get("/report", include_in_schema=False)
    async def report_page() -> FileResponse:
        return FileResponse(PAGES / "report.html")

    @app.get("/api/report")
    async def show_report(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """The show report so far (the host's or the admin's token): what was asked, what was not known."""
        if not site.is_host(bearer(authorization)):
            raise HTTPException(401, "the report needs the host's credentials: Authorization: Bearer <token>")
        catalog = host.catalog.current.catalog
        return shown.summary(lambda p: " / ".join(catalog.product(p).name.variants()) if catalog.has_product(p) else p)

    @app.get("/api/products/{product_id}/points")
    async def talking_points(product_id: str) -> dict[str, list[str]]:
        """What a person hosting beside the AI can say about the product: the show's own grounded lines."""
        catalog, product = on_catalog(product_id)
        return {lang: segment_lines(catalog, product, lang) for lang in ("zh", "en")}

    @app.post("/api/ask")
    async def ask(body: AskRequest) -> dict[str, Any]:
        if not body.question.strip():
            raise HTTPException(422, "question: is empty")
        if body.product and not host.catalog.current.catalog.has_product(body.product):
            raise HTTPException(404, f"product '{body.product}' is not in the catalog")
        answer = (await in_thread(engine.answer, body.question, body.product)).to_json()
        metrics.observe_answer(answer, "api")
        return answer

    @app.post("/api/catalog/reload", dependencies=[Depends(require_admin)])
    async def reload(body: ReloadRequest | None = None) -> JSONResponse:
        if reloading.locked():
            raise HTTPException(409, "a catalog reload is already running; try again when it is done")
        async with reloading:
            try:
                path = catalog_file(body.path if body and body.path else host.catalog.path, allowed)
            except CatalogPathError as e:
                return JSONResponse({"ok": False, "kept": str(host.catalog.path), "error": str(e)}, status_code=400)
            problems = await in_thread(host.reload_catalog, path)
        if problems:
            reason = f"the catalog has {len(problems)} problem(s); still answering from {host.catalog.path.name}"
            listed = [str(p) for p in problems]
            return JSONResponse(
                {"ok": False, "error": reason, "kept": str(host.catalog.path), "problems": listed}, status_code=400
            )
        return JSONResponse({"ok": True, "catalog": str(host.catalog.path)})

    @app.websocket("/ws/pcm")
    async def pcm(socket: WebSocket) -> None:
        await socket.accept()
        rate, product = parse_rate(socket.query_params.get("sample_rate")), socket.query_params.get("product")
        credential = socket.query_params.get("token") or bearer(socket.headers.get("authorization"))
        problem = None
        if not open_pcm and not may_speak(credential):
            problem = "/ws/pcm needs a token (?token=...): the admin token, or a host or agent token"
        elif voice is None:
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
            await pcm_conversation(socket, stages_for, product, rate, pcm_idle_s)  # type: ignore[arg-type]
        except Exception:  # a broken connection ends that conversation, never the server
            log.exception("spoken conversation failed")
        finally:
            conversations.discard(socket)

    return app
