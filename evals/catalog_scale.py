"""A large catalog, measured: load time (cold and cached) and the answer engine's planning time.

A generated store of N products with V variants each (Shopify-style CSV, one row per variant, or the
same as JSON), seeded so every run builds the same file. Questions are drawn from its own products:
a spec, a price, a variant's stock, a colour, a cheapest-in-category.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evals.stats import percentiles

CATEGORIES = [
    ("Robot Vacuum", "suction", "Pa"),
    ("Air Purifier", "cadr", "m³/h"),
    ("Power Bank", "capacity", "mAh"),
    ("Desk Lamp", "brightness", "lm"),
    ("Smart Plug", "max_load", "W"),
    ("Earbuds", "battery_life", "h"),
    ("Smart Watch", "battery_life", "days"),
    ("Kettle", "capacity", "L"),
    ("Backpack", "volume", "L"),
    ("Sneakers", "weight", "g"),
]
COLOURS = ["Black", "White", "Red", "Blue", "Green", "Grey", "Pink", "Navy", "Olive", "Sand"]
SIZES = ["S", "M", "L", "XL", "XXL"]


def generate(folder: Path, products: int, variants: int, seed: int = 7) -> tuple[Path, Path]:
    """Writes catalog.csv (Shopify columns) and catalog.json with the same products; returns both."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    items: list[dict[str, Any]] = []
    for i in range(products):
        category, key, unit = CATEGORIES[i % len(CATEGORIES)]
        handle = f"item-{i:05d}"
        name = f"{rng.choice(['Nova', 'Zen', 'Peak', 'Orbit', 'Luma'])} {category} {chr(65 + i % 26)}{i}"
        base = rng.randint(20, 900)
        value = f"{rng.randint(1, 60) * 10} {unit}"
        weight = f"{rng.randint(100, 3000)} g"
        item: dict[str, Any] = {
            "id": handle,
            "name": name,
            "category": category,
            "price": base,
            "description": f"A {category.lower()} for everyday use. Ships in a recycled box.",
            "specs": {key: value, "weight": weight, "warranty": f"{rng.randint(1, 3)} years"},
            "variants": [],
        }
        for v in range(variants):
            colour, size = COLOURS[v % len(COLOURS)], SIZES[(v // len(COLOURS)) % len(SIZES)]
            price = base + (v % 3) * 5
            stock = rng.randint(0, 40)
            item["variants"].append(
                {"id": f"{handle}-{v}", "options": {"Color": colour, "Size": size}, "price": price, "stock": stock}
            )
            rows.append(
                {
                    "Handle": handle,
                    "Title": name if v == 0 else "",
                    "Body (HTML)": f"<p>{item['description']}</p>" if v == 0 else "",
                    "Type": category if v == 0 else "",
                    "Option1 Name": "Color",
                    "Option1 Value": colour,
                    "Option2 Name": "Size",
                    "Option2 Value": size,
                    "Variant SKU": f"{handle}-{v}",
                    "Variant Price": str(price),
                    "Variant Inventory Qty": str(stock),
                    key: value if v == 0 else "",
                    "Weight": weight if v == 0 else "",
                }
            )
        items.append(item)
    csv_path = folder / "catalog.csv"
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    json_path = folder / "catalog.json"
    json_path.write_text(json.dumps({"store": {"currency": "USD"}, "products": items}), encoding="utf-8")
    return csv_path, json_path


def questions(products: int, count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        i = rng.randrange(products)
        category, key, _ = CATEGORIES[i % len(CATEGORIES)]
        code = f"{chr(65 + i % 26)}{i}"
        out.append(
            rng.choice(
                [
                    f"what's the {key.replace('_', ' ')} of the {code}?",
                    f"how much is the {code}?",
                    f"is the {rng.choice(COLOURS).lower()} {code} in stock?",
                    f"does the {code} come in purple?",
                    f"cheapest {category.lower()}?",
                    f"{code}多重?",
                ]
            )
        )
    return out


def load_once(path: Path) -> dict[str, float]:
    """One load of the catalog in this process: parse and compile, then the fact index (the start-up of
    the embedder and of the Chinese segmenter excluded: a running agent has both already)."""
    from knowledge.base import KnowledgeBase
    from knowledge.embedding import UniversalSentenceEncoder
    from knowledge.loader import load_catalog
    from knowledge.text import tokens

    embedder = UniversalSentenceEncoder(threads=1)
    tokens("预热 warm-up")
    start = time.perf_counter()
    catalog = load_catalog(path)
    parsed = time.perf_counter()
    KnowledgeBase(catalog, embedder)
    done = time.perf_counter()
    return {"parse_s": round(parsed - start, 2), "load_s": round(done - start, 2)}


def _load_in_fresh_process(path: Path) -> dict[str, float]:
    code = (
        "import json, pathlib; from evals.catalog_scale import load_once; "
        f"print(json.dumps(load_once(pathlib.Path({str(path)!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(path: Path, count: int) -> dict[str, Any]:
    """Cold load (no cached vectors) and cached load, each in a fresh process; then planning time per question."""
    from agent.answer.plan import Planner
    from knowledge.base import KnowledgeBase
    from knowledge.embedding import UniversalSentenceEncoder
    from knowledge.loader import load_catalog
    from knowledge.retrieval import clear_vector_cache

    clear_vector_cache()
    cold = _load_in_fresh_process(path)
    cached = _load_in_fresh_process(path)
    kb = KnowledgeBase(load_catalog(path), UniversalSentenceEncoder(threads=1))
    planner = Planner(kb)
    catalog = kb.catalog
    asked = questions(len(catalog.products), count)
    planner.plan(asked[0])  # the first question pays for lazy set-up
    took = []
    answered = 0
    for q in asked:
        t = time.perf_counter()
        plan = planner.plan(q)
        took.append((time.perf_counter() - t) * 1000)
        answered += plan.status == "answered"
    return {
        "file": str(path),
        "products": len(catalog.products),
        "variants": sum(len(p.variants) for p in catalog.products),
        "facts": len(kb.index.facts),
        "parse_s": cached["parse_s"],
        "cold_load_s": cold["load_s"],
        "cached_load_s": cached["load_s"],
        "plan_ms": percentiles(took),
        "answered": f"{answered}/{len(asked)}",
    }
