"""The operator's live facts: checked when set, said and answered only while they hold, woven into
the show, a flash sale counted down when it opens, kept across a restart; and over HTTP on a real
server with a host token."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from agent.answer.engine import AnswerEngine
from agent.rtc.voice_track import Floor
from agent.show.rundown import plan_rundown, segment_lines
from agent.show.runner import Show, opened
from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog, Text
from knowledge.live import LiveFactError, LiveFacts
from knowledge.loader import SAMPLE_CATALOG, load_catalog
from tests.conftest import running_server
from tests.test_show import RATE, Beeps, _said_until


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SAMPLE_CATALOG)


def test_a_live_fact_is_checked_when_it_is_set_and_nothing_half_set_stays(catalog: Catalog) -> None:
    live = LiveFacts()
    known = catalog.has_product
    for bad, why in [
        (dict(text=Text(zh="立减50元"), kind="sale"), "kind"),
        (dict(text=Text(en="  ")), "text"),
        (dict(text=Text(en="x" * 201)), "at most 200"),
        (dict(text=Text(en="50 off"), product_id="no-such-product", has_product=known), "not in the catalog"),
        (dict(text=Text(en="50 off"), lasts_s=0), "lasts_s"),
        (dict(text=Text(en="50 off"), starts_in_s=-5), "starts_in_s"),
    ]:
        with pytest.raises(LiveFactError, match=why):
            live.add(**bad)  # type: ignore[arg-type]
    assert live.all() == []


def test_live_facts_hold_only_in_their_window_and_survive_a_restart(tmp_path: Path) -> None:
    clock, path = Clock(), tmp_path / "live.json"
    live = LiveFacts(path, clock)
    offer = live.add(Text(zh="今晚下单立减50元", en="50 yuan off tonight"), product_id="band-x2", lasts_s=600)
    sale = live.add(Text(en="Buds at 99 for ten minutes"), kind="countdown", starts_in_s=120, lasts_s=600)
    assert [f.id for f in live.active("band-x2")] == [offer.id] and live.opened() == []
    clock.now += 121
    assert [f.id for f in live.opened()] == [sale.id] and live.opened() == []  # announced once
    restarted = LiveFacts(path, clock)
    assert {f.id for f in restarted.all()} == {offer.id, sale.id} and restarted.opened() == []
    clock.now += 600
    assert restarted.active("band-x2") == [] and not restarted.is_active(offer.id)


def test_answers_use_a_live_offer_or_count_while_it_holds_and_never_after(catalog: Catalog) -> None:
    clock = Clock()
    live = LiveFacts(clock=clock)
    engine = AnswerEngine(KnowledgeBase(catalog, None, live))
    band = catalog.products[0]
    live.add(Text(zh="直播间下单立减30元", en="30 off if you order in the live room"), product_id=band.id, lasts_s=300)
    live.add(Text(zh="现在只剩12件了", en="only 12 left right now"), kind="stock", product_id=band.id, lasts_s=300)
    offer = engine.answer("有优惠吗？", on_stage=band.id)
    assert offer.plan.reason == "live" and "立减30元" in offer.text, offer.text
    stock = engine.answer("how many are left?", on_stage=band.id)
    assert "only 12 left" in stock.text, stock.text
    shop = engine.answer("any coupons today?")
    assert "30 off" in shop.text, shop.text
    clock.now += 301  # over: never said again
    after = engine.answer("有优惠吗？", on_stage=band.id)
    assert "立减30元" not in after.text and after.plan.reason != "live", after.text


def test_the_show_says_a_live_offer_after_the_hook_and_counts_down_a_flash_sale(catalog: Catalog) -> None:
    clock = Clock()
    live = LiveFacts(clock=clock)
    product = catalog.products[0]
    live.add(Text(en="Tonight only: 30 off the band."), product_id=product.id, lasts_s=600)
    ended = live.add(Text(en="This offer has ended."), product_id=product.id, lasts_s=1)
    sale = live.add(Text(en="The buds are 99 for ten minutes."), kind="countdown", starts_in_s=60, lasts_s=600)
    show = Show(plan_rundown(catalog, ("en",)), lambda: catalog, rate=RATE, live=live)
    floor = Floor(show)
    said: list[str] = []

    async def run() -> None:
        task = asyncio.ensure_future(show.run(Beeps(), floor.room_busy, on_line=lambda t, _: said.append(t)))
        # during the hook one offer's window closes; during the next line the flash sale opens
        await _said_until(show, floor, said, 2, lambda: setattr(clock, "now", clock.now + 2))
        await _said_until(show, floor, said, 3, lambda: setattr(clock, "now", clock.now + 60))
        task.cancel()

    asyncio.run(run())
    lines = segment_lines(catalog, product, "en")
    assert said[:2] == [lines[0], "Tonight only: 30 off the band."], said
    assert said[2] == opened(sale, "en") and said[2].startswith("3, 2, 1")
    assert ended.text.get("en") not in said  # its window closed before its turn came


def _call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_host_sets_a_live_offer_over_http_and_the_agent_answers_with_it(tmp_path: Path) -> None:
    store = tmp_path / "live.json"
    args = ("--no-voice", "--composer", "catalog", "--live-facts", str(store))
    with running_server(*args, env={"LIVEHOST_ADMIN_TOKEN": "admin-secret"}) as (url, _):
        offer = {"product_id": "band-x2", "zh": "直播间下单立减30元", "en": "30 off in the live room", "lasts_s": 600}
        assert _call(f"{url}/api/live-facts", "POST", offer)[0] == 401  # the host's credentials only
        status, bad = _call(f"{url}/api/live-facts", "POST", {**offer, "product_id": "nope"}, "admin-secret")
        assert status == 422 and "not in the catalog" in bad["error"]
        status, made = _call(f"{url}/api/live-facts", "POST", offer, "admin-secret")
        assert status == 201 and made["active"] is True
        _, answer = _call(f"{url}/api/ask", "POST", {"question": "有优惠吗？", "product": "band-x2"})
        assert "立减30元" in answer["answer"], answer
        _, card = _call(f"{url}/api/products/band-x2")
        assert card["offers"] == [{"zh": "直播间下单立减30元", "en": "30 off in the live room"}]
        assert _call(f"{url}/api/live-facts/{made['id']}", "DELETE", token="admin-secret")[0] == 200
        _, answer = _call(f"{url}/api/ask", "POST", {"question": "有优惠吗？", "product": "band-x2"})
        assert "立减30元" not in answer["answer"]
    assert json.loads(store.read_text())["facts"] == []  # the file holds what the host left
