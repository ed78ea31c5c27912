"""The catalog compile step: any seller's catalog made speakable in both languages.

A seller writes keys and categories in one language and in their own style ("suction", "续航",
"Cable Length"). Compiling gives every spec key and option name a spoken label in zh and en, and
every category both languages: the seller's own `spec_labels` first, then the bilingual vocabulary
of the trade, then the key itself. What was inferred is kept as notes for `livehost catalog check`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from knowledge.catalog import Catalog, Product, SpecValue, Text
from knowledge.names import spoken_names
from knowledge.text import CJK
from knowledge.vocabulary import spoken_key, translate


def compile_catalog(catalog: Catalog, notes: list[str] | None = None) -> Catalog:
    notes = list(notes or [])
    compiled = tuple(_with_units_from_keys(_with_described_specs(p, notes), notes) for p in catalog.products)
    catalog = replace(catalog, products=compiled)
    keys = dict.fromkeys(
        [k for p in catalog.products for k in (*p.specs, *(k for v in p.variants for k in v.specs))]
        + [name for p in catalog.products for name in p.option_names()]
    )
    inferred: dict[str, Text] = {}
    unread: list[str] = []
    for key in keys:
        if key in catalog.spec_labels:
            continue
        label = spoken_key(key)
        inferred[key] = label
        if translate(key) is None:
            unread.append(key)
        else:
            notes.append(f"label: {key} -> {label.zh} / {label.en}")
    if unread:
        notes.append(f"no translation for {', '.join(unread)}: spoken as written (add spec_labels to say them well)")
    products = tuple(_with_category(p, notes) for p in catalog.products)
    short = spoken_names(products)
    products = tuple(replace(p, said_as=short[p.id]) if p.id in short else p for p in products)
    if short:
        said = "; ".join(f"{p.id}: {' / '.join(dict.fromkeys(p.spoken.variants()))}" for p in products if p.id in short)
        notes.append(f"names said as: {said}")
    return replace(catalog, products=products, inferred_labels=inferred, notes=tuple(notes))


def _with_category(product: Product, notes: list[str]) -> Product:
    category = _leaf(product.category)
    if category != product.category:
        product = replace(product, category=category)
    if category is None or (category.zh and category.en and category.zh != category.en):
        return product
    written = category.en or category.zh or ""
    found = translate(written, "category")
    if found is None:
        return product
    # one plain string is one language: Chinese characters or not
    zh, en = (written, found.en) if CJK.search(written) else (found.zh, written)
    filled = Text(zh=zh, en=en)
    notes.append(f"category: {product.id}: {category.get('en')} -> {filled.zh} / {filled.en}")
    return replace(product, category=filled)


def _leaf(category: Text | None) -> Text | None:
    """A platform's category path ("个护健康>电动牙刷", "Home / Kitchen / Kettles") spoken as its last step."""
    if category is None:
        return None
    leaf = [re.split(r"\s*(?:>|/|›|»)\s*", t)[-1].strip() or t for t in (category.zh, category.en) if t]
    return Text(zh=leaf[0] if category.zh else None, en=leaf[-1] if category.en else None)


# "DPI: 800 / 1600 / 2400 / 4000." in a listing's body: a spec written as a sentence
SPEC_SENTENCE = re.compile(r"^\s*([^:：.!?。！？\d][^:：.!?。！？]{0,24}?)\s*[:：]\s*(\S.*?)\s*[.。;；]?\s*$")
SENTENCES = re.compile(r"[^.!?。！？;；\n]+(?:\.\d[^.!?。！？;；\n]*)*[.!?。！？;；]?")


def _with_described_specs(product: Product, notes: list[str]) -> Product:
    """A description's "Label: value" sentences become specs, unless the product already has that key."""
    if product.description is None:
        return product
    found: dict[str, Text] = {}
    for lang in ("en", "zh"):
        if not product.description.has(lang):
            continue
        for sentence in SENTENCES.findall(product.description.get(lang)):
            pair = described_spec(sentence)
            if pair is None:
                continue
            key, value = pair
            if key not in product.specs and key.lower() not in {k.lower() for k in found}:
                found[key] = Text.same(value)
    if not found:
        return product
    notes.append(f"specs read from the description: {product.id}: {', '.join(found)}")
    return replace(product, specs={**product.specs, **found})


def described_spec(sentence: str) -> tuple[str, str] | None:
    """A sentence that is a spec ("DPI: 800 / 1600"), as its key and value."""
    m = SPEC_SENTENCE.match(sentence)
    if m is None or len(m.group(1).split()) > 3 or re.search(r"https?:|www\.", sentence):
        return None
    return m.group(1).strip(), m.group(2).strip()


# a unit in a key's brackets ("Capacity (mAh)", "重量(克)") belongs to the value: "4000" alone says nothing
UNIT_IN_KEY = re.compile(r"^(.*?\S)\s*[(（]\s*([A-Za-z%°µ/²³]{1,6}|[\u4e00-\u9fff]{1,2})\s*[)）]\s*$")


def _with_units_from_keys(product: Product, notes: list[str]) -> Product:
    moved: list[str] = []

    def specs(own: dict[str, SpecValue]) -> dict[str, SpecValue]:
        out: dict[str, SpecValue] = {}
        for key, value in own.items():
            m = UNIT_IN_KEY.match(key)
            bare = m.group(1) if m else key
            if m is None or isinstance(value, bool) or bare in own:
                out[key] = value
                continue
            unit = m.group(2)
            out[bare] = Text(
                zh=_with_unit(value.zh, unit) if value.zh else None, en=_with_unit(value.en, unit) if value.en else None
            )
            moved.append(key)
        return out

    variants = tuple(replace(v, specs=specs(v.specs)) for v in product.variants)
    changed = replace(product, specs=specs(product.specs), variants=variants)
    if moved:
        notes.append(f"units moved from keys to values: {product.id}: {', '.join(dict.fromkeys(moved))}")
    return changed


def _with_unit(value: str, unit: str) -> str:
    if not re.search(r"\d\s*$", value):  # already has a unit or is not a number
        return value
    return f"{value}{unit}" if CJK.search(unit) or unit in ("%", "°") else f"{value} {unit}"
