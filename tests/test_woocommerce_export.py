"""A WooCommerce product export: variable products with variation rows under them, sale prices,
`meta:` spec columns and the listing's own bookkeeping columns."""

from __future__ import annotations

from pathlib import Path

from knowledge.loader import load_catalog

EXPORT = """ID,Type,SKU,Name,Published,Short description,Description,Tax status,In stock?,Stock,Sale price,\
Regular price,Categories,Parent,Attribute 1 name,Attribute 1 value(s),Attribute 1 visible,meta:capacity,meta:app_control
101,variable,F4,PawFeast F4 Feeder,1,Wi-Fi feeder.,<p>Ten meals a day.</p>,taxable,1,,,,Feeding > Feeders,,\
Size,"4L, 6L",1,4L or 6L,TRUE
102,variation,F4-4L,PawFeast F4 Feeder - 4L,1,,,taxable,1,12,,69.99,,F4,Size,4L,,,
103,variation,F4-6L,PawFeast F4 Feeder - 6L,1,,,taxable,0,0,,84.99,,id:101,Size,6L,,,
110,simple,L1,CleanPaw L1 Litter Box,1,,Self-cleaning.,taxable,0,,349,399,Litter > Boxes,,,,,,FALSE
"""


def test_variations_belong_to_their_product_by_its_sku_or_id(tmp_path: Path) -> None:
    path = tmp_path / "wc.csv"
    path.write_text(EXPORT, encoding="utf-8")
    catalog = load_catalog(path)
    assert [p.id for p in catalog.products] == ["F4", "L1"]  # the seller's SKU, not the row number
    feeder = catalog.product("F4")
    assert [v.id for v in feeder.variants] == ["F4-4L", "F4-6L"]  # the product's own row is no variant
    assert feeder.price == "69.99" and feeder.variants[1].price == "84.99"
    assert feeder.variants[0].stock == 12 and feeder.variants[1].stock == 0
    assert [v.get("en") for v in feeder.option_values("Size")] == ["4L", "6L"]
    assert feeder.description is not None and "Wi-Fi feeder." in feeder.description.get("en")
    assert "Ten meals a day" in feeder.description.get("en")  # short and long description, both
    assert feeder.category is not None and "Feeders" in feeder.category.get("en")  # not "variable"
    assert "capacity" in feeder.specs and "Tax status" not in feeder.specs and "Published" not in feeder.specs
    box = catalog.product("L1")
    assert box.price == "349" and box.original_price == "399"  # on sale: the sale price, the regular one before
    assert box.stock == 0  # "In stock?" 0 and no count
