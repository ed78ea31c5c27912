"""The operator's live facts over HTTP: what the host page's "Live facts" panel (or a script with a
host token) sets, lists and removes while the show runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, Field

from knowledge.catalog import Text
from knowledge.live import KINDS, MAX_SPAN_S, MAX_TEXT, LiveFactError, LiveFacts


class LiveFactRequest(BaseModel):
    kind: str = Field(default="offer", pattern=f"^({'|'.join(KINDS)})$")
    zh: str | None = Field(default=None, max_length=MAX_TEXT, description="what the host says, in Chinese")
    en: str | None = Field(default=None, max_length=MAX_TEXT, description="what the host says, in English")
    product_id: str | None = Field(default=None, max_length=200, description="none: the whole shop")
    starts_in_s: float = Field(default=0.0, ge=0, le=MAX_SPAN_S)
    lasts_s: float | None = Field(default=None, gt=0, le=MAX_SPAN_S, description="none: until removed")


def add_live_routes(
    app: FastAPI, live: LiveFacts, is_host: Callable[[str | None], bool], has_product: Callable[[str], bool]
) -> None:
    def host_only(authorization: str | None) -> None:
        credential = (authorization or "").removeprefix("Bearer ").strip() or None
        if not is_host(credential):
            raise HTTPException(401, "live facts need the host's credentials: Authorization: Bearer <token>")

    @app.get("/api/live-facts")
    async def listed(authorization: Annotated[str | None, Header()] = None) -> list[dict[str, Any]]:
        host_only(authorization)
        now = time.time()
        return [f.to_json(now) for f in live.all()]

    @app.post("/api/live-facts", status_code=201)
    async def added(body: LiveFactRequest, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        host_only(authorization)
        text = Text(zh=(body.zh or "").strip() or None, en=(body.en or "").strip() or None)
        if not text.variants():
            raise HTTPException(422, "text: say the fact in zh or en (or both)")
        try:
            fact = live.add(text, body.kind, body.product_id, body.starts_in_s, body.lasts_s, has_product)
        except LiveFactError as e:
            raise HTTPException(422, str(e)) from None
        return fact.to_json(time.time())

    @app.delete("/api/live-facts/{fact_id}")
    async def removed(fact_id: str, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        host_only(authorization)
        if not live.remove(fact_id):
            raise HTTPException(404, f"no live fact '{fact_id[:40]}'")
        return {"removed": fact_id}
