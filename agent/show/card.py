"""A product card: what the pages show of the product on stage, from its catalog facts.

Name, price (a range when its options differ in price; the original price when it is higher), its
first specs and its options, in both languages as the catalog gives them. A label a language
cannot say is left out of that language, as in spoken answers.
"""

from __future__ import annotations

from typing import Any

from agent.answer.operations import highest_price, lowest_price
from agent.show.rundown import LANGUAGES
from knowledge.catalog import Catalog, Product
from knowledge.facts import money, product_facts, speakable

CARD_SPECS = 4


def product_card(catalog: Catalog, product: Product) -> dict[str, Any]:
    def both(text: Any) -> dict[str, str]:
        return {lang: text.get(lang) for lang in LANGUAGES}

    low, high = (lowest_price(product), highest_price(product)) if product.variants else (product.price,) * 2
    price = {lang: money(catalog, low, lang) for lang in LANGUAGES}
    if low != high:
        price = {lang: f"{money(catalog, low, lang)} - {money(catalog, high, lang)}" for lang in LANGUAGES}
    card: dict[str, Any] = {"id": product.id, "name": both(product.name), "price": price}
    if product.original_price and product.original_price != product.price:
        card["original_price"] = {lang: money(catalog, product.original_price, lang) for lang in LANGUAGES}
    if product.category is not None:
        card["category"] = both(product.category)
    specs = [f for f in product_facts(catalog, product) if f.kind == "spec" and f.variant is None][:CARD_SPECS]
    card["specs"] = {
        lang: [{"label": f.label.get(lang), "value": f.value.get(lang)} for f in specs if speakable(f.label, lang)]
        for lang in LANGUAGES
    }
    card["options"] = [
        {"label": both(catalog.spec_label(name)), "values": [both(v) for v in product.option_values(name)]}
        for name in product.option_names()
    ]
    if product.variants and not card["options"]:  # variants with names only: the versions themselves
        card["options"] = [
            {"label": {"zh": "版本", "en": "versions"}, "values": [both(v.name) for v in product.variants]}
        ]
    return card
