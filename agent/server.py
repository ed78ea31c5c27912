"""The agent's HTTP server: an ask page, a JSON answer API and catalog administration.

Text in, text out for now; the voice endpoint (/ws/pcm) and the WebRTC room build on the same
`Host`. Every malformed request gets a 4xx with a reason, and no viewer input can stop the server.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from agent.host import Host

log = logging.getLogger("livehost.server")
PAGES = Path(__file__).parent / "pages"
MAX_QUESTION_CHARS = 500


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    product: str | None = Field(default=None, max_length=64, description="the product on stage")


class ReloadRequest(BaseModel):
    path: str | None = Field(default=None, max_length=4096, description="another catalog file; default: the same")


def create_app(host: Host, admin_token: str | None = None) -> FastAPI:
    app = FastAPI(title="livehost", version="0.1.0")
    token = admin_token or secrets.token_urlsafe(18)
    app.state.host, app.state.admin_token = host, token
    answering = asyncio.Lock()  # one model, one answer at a time

    def require_host(authorization: Annotated[str | None, Header()] = None) -> None:
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given, token):
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
        return {"ok": True, "catalog": str(host.catalog.path), "composer": host.options.composer}

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
        async with answering:
            answer = await asyncio.to_thread(host.engine.answer, body.question, body.product)
        return answer.to_json()

    @app.post("/api/catalog/reload", dependencies=[Depends(require_host)])
    async def reload(body: ReloadRequest | None = None) -> JSONResponse:
        problems = await asyncio.to_thread(host.reload_catalog, body.path if body else None)
        if problems:
            return JSONResponse(
                {"ok": False, "kept": str(host.catalog.path), "problems": [str(p) for p in problems]}, status_code=400
            )
        return JSONResponse({"ok": True, "catalog": str(host.catalog.path)})

    return app
