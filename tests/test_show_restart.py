"""A real server process killed in the middle of the show (SIGKILL: nothing saved on the way out) and
started again: the show goes on with the segment it was presenting, the operator's offer still holds;
then a catalog reload drops the next product, and the show passes over it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import running_server

from agent.rtc.client import RoomClient
from evals.room import wait_for_agent
from knowledge.loader import SAMPLE_CATALOG

pytestmark = pytest.mark.model
ADMIN = "restart-test-admin"
PLACE = 3  # the host sends the show here first, so that a resume from the top could not pass


def _state(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["position"])
    except (OSError, ValueError, KeyError):
        return {}


def _until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _host_token(url: str) -> str:
    reply = httpx.post(
        f"{url}/api/rooms/live/tokens", json={"role": "host"}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    return str(reply.json()["token"])


async def _as_host(url: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
    """Joins as the host (sends `message`), leaves; what the host page was told: the room's state."""
    client = RoomClient(url, "live", _host_token(url))
    welcome = await client.connect()
    if message is not None:
        await client.send(message)
    await client.close()
    return dict(welcome.get("state", {}))


def test_a_killed_server_goes_on_with_the_show_where_it_was_and_keeps_the_offer(tmp_path: Path) -> None:
    state, live, catalog = tmp_path / "show-state.json", tmp_path / "live.json", tmp_path / "catalog.yaml"
    catalog.write_text(SAMPLE_CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    args = ["--catalog", str(catalog), "--composer", "catalog", "--show", "auto", "--greet-every", "0"]
    args += ["--show-state", str(state), "--live-facts", str(live), "--report", str(tmp_path / "report.json")]
    env = {"LIVEHOST_ADMIN_TOKEN": ADMIN}
    offer = {"product_id": "band-x2", "zh": "直播间下单立减30元", "en": "30 off in the live room", "lasts_s": 3600}
    auth = {"Authorization": f"Bearer {ADMIN}"}

    with running_server(*args, env=env) as (url, proc):
        wait_for_agent(url, "live")
        assert httpx.post(f"{url}/api/live-facts", json=offer, headers=auth).status_code == 201
        asyncio.run(_as_host(url, {"type": "show", "go_to": PLACE}))
        # a line or two into the segment: a resume must come back to this segment, not to its start
        _until(lambda: _state(state).get("segment") == PLACE and _state(state).get("line", 0) >= 2, 180, "no show")
        proc.kill()  # no shutdown: only what was written while it ran survives
        proc.wait(timeout=30)
        before = _state(state)

    with running_server(*args, env=env) as (url, _):
        wait_for_agent(url, "live")
        rundown = asyncio.run(_as_host(url))["rundown"]
        assert rundown["current"] == PLACE, rundown  # the host page shows the segment it was on
        _until(lambda: _state(state).get("line", 0) > before["line"], 180, "the show did not go on")
        after = _state(state)
        assert after["segment"] == PLACE and after["loop"] == before["loop"], (before, after)
        facts = httpx.get(f"{url}/api/live-facts", headers=auth).json()
        assert [(f["text"]["en"], f["active"]) for f in facts] == [(offer["en"], True)], facts
        answer = httpx.post(f"{url}/api/ask", json={"question": "有优惠吗？", "product": "band-x2"}).json()
        assert "立减30元" in answer["answer"], answer

        dropped = rundown["segments"][PLACE + 1]["product"]
        data = yaml.safe_load(catalog.read_text(encoding="utf-8"))
        data["products"] = [p for p in data["products"] if p["id"] != dropped]
        smaller = tmp_path / "smaller.yaml"
        smaller.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        reload = httpx.post(f"{url}/api/catalog/reload", json={"path": str(smaller)}, headers=auth, timeout=120)
        assert reload.status_code == 200, reload.text
        asyncio.run(_as_host(url, {"type": "show", "skip": True}))
        # past the dropped product's segment(s), to the next one whose product is still sold
        products = [segment["product"] for segment in rundown["segments"]]

        seen: list[dict[str, Any]] = []

        def passed() -> bool:
            seen.append(_state(state))
            where = seen[-1].get("segment", 0)
            return where > PLACE + 1 and products[where] != dropped

        _until(passed, 120, "the show stopped at the dropped product")
        said_of_dropped = [p for p in seen if p and products[p["segment"]] == dropped and p["line"] > 0]
        assert said_of_dropped == [], said_of_dropped  # not one line of its segment was said
        assert httpx.get(f"{url}/api/products/{dropped}").status_code == 404
