"""The product card the pages show for the product on stage (GET /api/products/ID)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from agent.app import build
from agent.app.host import HostOptions
from agent.app.server import create_app
from agent.show.card import product_card
from knowledge.loader import SAMPLE_CATALOG, load_catalog


def test_a_card_has_the_name_price_specs_and_options_in_both_languages() -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    card = product_card(catalog, catalog.product("band-x2"))
    assert card["name"] == {"zh": "智能手环X2", "en": "SmartBand X2"}
    assert card["price"]["zh"].startswith("199") and "229" in card["price"]["zh"]  # its options differ in price
    assert card["original_price"]["en"] == "249 yuan"
    assert {"label": "续航时间", "value": "14天"} in card["specs"]["zh"] and len(card["specs"]["en"]) == 4
    assert any(v["zh"] == "樱花粉" for option in card["options"] for v in option["values"]), card["options"]


def test_the_server_gives_a_card_by_id_and_one_reason_for_an_unknown_one(tmp_path: Path) -> None:
    app = create_app(build.host(HostOptions(catalog=SAMPLE_CATALOG, composer="catalog")), "t", watch_interval=None)
    client = TestClient(app)
    assert client.get("/api/products/lamp-l1").json()["name"]["en"]
    missing = client.get("/api/products/no-such-thing")
    assert missing.status_code == 404 and missing.json() == {"error": "product 'no-such-thing' is not in the catalog"}
