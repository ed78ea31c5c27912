"""Catalog loading: every supported format, and one clear report of everything wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.app.cli import main
from knowledge.base import LiveCatalog
from knowledge.catalog import Text
from knowledge.loader import SAMPLE_CATALOG, load_catalog
from knowledge.sources import CatalogError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    return [str(p) for p in err.value.problems]


def test_sample_catalog_is_rich_and_bilingual() -> None:
    catalog = load_catalog(SAMPLE_CATALOG)
    assert len(catalog.products) >= 12
    assert all(p.name.has("zh") and p.name.has("en") for p in catalog.products)
    assert any(v is False for p in catalog.products for v in p.specs.values()), "needs facts whose answer is no"
    assert any(p.variants for p in catalog.products)
    assert {"shipping", "returns", "warranty"} <= set(catalog.store.policies)


def test_every_problem_is_reported_with_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "store:\n  name: Shop\nproducts:\n"
        "  - id: a1\n    name: {zh: 甲, fr: A}\n    price: abc\n"
        "  - id: a1\n    name: B\n"
        "  - id: b2\n    name: C\n    price: 5\n    prcie: 6\n",
    )
    found = problems(path)
    assert f"{path}:5: products[0].name.fr: unknown language key 'fr' (use zh or en)" in found
    assert any(f"{path}:6: products[0].price: cannot read 'abc'" in p for p in found)
    assert any(f"{path}:7: products[1].price: missing price" in p for p in found)
    assert any(":7: products[1].id: duplicate product id 'a1' (first defined at line 4)" in p for p in found)
    assert any(":12: products[2].prcie: unknown field 'prcie'" in p for p in found)


def test_yaml_and_json_syntax_errors_name_the_line(tmp_path: Path) -> None:
    assert any(
        ":3:" in p and "YAML syntax error" in p
        for p in problems(write(tmp_path, "a.yaml", "products:\n  - id: x\n  name: [\n"))
    )
    assert any(
        ":2:" in p and "JSON syntax error" in p
        for p in problems(write(tmp_path, "a.json", '{"products": [\n  {"id": }]}'))
    )


def test_json_catalog_with_line_numbers(tmp_path: Path) -> None:
    data = {"products": [{"id": "p1", "name": {"en": "Plug"}, "price": 59}, {"id": "p2", "name": "Lamp", "price": -1}]}
    path = write(tmp_path, "c.json", json.dumps(data, indent=2))
    assert any("products[1].price" in p and "must be a number >= 0" in p for p in problems(path))
    data["products"][1]["price"] = 89.5
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_catalog(path).product("p2").price == "89.5"


def test_csv_import(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "products.csv",
        "id,name_zh,name_en,category_en,price,aliases,spec:battery_life:zh,spec:battery_life:en,spec:nfc\n"
        "band-1,手环1,Band 1,fitness band,199,B1|band one,14天,14 days,false\n",
    )
    product = load_catalog(path).product("band-1")
    assert product.name == Text(zh="手环1", en="Band 1")
    assert product.aliases == ("B1", "band one")
    assert product.specs["battery_life"] == Text(zh="14天", en="14 days")
    assert product.specs["nfc"] is False
    path.write_text(path.read_text() + "band-2,手环2,Band 2,,,,,,\n", encoding="utf-8")
    assert any(":3: products[1].price: missing price" in p for p in problems(path))


def test_yaml_store_can_include_a_csv_product_list(tmp_path: Path) -> None:
    write(tmp_path, "list.csv", "id,name_en,price\nplug-1,Plug,59\n")
    path = write(tmp_path, "store.yaml", "store: {name: Shop, currency: CNY}\nproducts_from: list.csv\n")
    assert [p.id for p in load_catalog(path).products] == ["plug-1"]


def test_a_broken_reload_keeps_the_last_good_catalog(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "products:\n  - {id: a, name: A, price: 1}\n")
    live = LiveCatalog(path)
    path.write_text("products:\n  - {id: a, name: A}\n", encoding="utf-8")
    found = live.reload()
    assert found and "missing price" in str(found[0])
    assert live.current.catalog.product("a").price == "1"
    path.write_text("products:\n  - {id: a, name: A, price: 2}\n", encoding="utf-8")
    assert live.reload() == [] and live.current.catalog.product("a").price == "2"


def test_cli_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check", str(SAMPLE_CATALOG)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = write(tmp_path, "bad.yaml", "products:\n  - {id: a, name: A, price: free}\n")
    assert main(["catalog", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"error: {bad}:2: products[0].price: cannot read 'free' as a price" in err
    assert main(["catalog", "check", str(tmp_path / "missing.yaml")]) == 1
    assert "file not found" in capsys.readouterr().err


def test_the_documented_examples_load(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "catalog.md").read_text(encoding="utf-8")
    yaml_block = doc.split("```yaml\n")[1].split("```")[0]
    catalog = load_catalog(write(tmp_path, "example.yaml", yaml_block))
    assert catalog.product("band-x2").variants[1].price == "229"
    chinese, shopify = (block.split("```")[0] for block in doc.split("```csv\n")[1:3])
    band = load_catalog(write(tmp_path, "chinese.csv", chinese)).product("A100")
    assert band.price == "199" and band.specs["续航"].get("zh") == "14天"
    tee = load_catalog(write(tmp_path, "shopify.csv", shopify)).product("trail-tee")
    assert [v.stock for v in tee.variants] == [5, 3] and tee.variants[1].price == "27.5"
