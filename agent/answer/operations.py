"""Catalog queries that are not one fact: price ranges, cheapest/dearest, stock, options, the store.

A live-stream audience asks "how much is the T-shirt?" (a range over its variants), "cheapest black
one?", "is the white one in stock?", "does it come in purple?", "what do you sell?", "tell me about
the L9", "which one under 50?". Each is a small deterministic query over the catalog: the question's
form picks the operation, the catalog supplies every value, and the result is a `Fact` whose
sentence is built from catalog text alone, so it is grounded like any other.
"""

from __future__ import annotations

import re
from decimal import Decimal

from agent.answer.queries import asks_option
from knowledge.catalog import Catalog, Product, Text, Variant
from knowledge.facts import Fact, money
from knowledge.text import CJK, compact, normalize
from knowledge.vocabulary import colour_of, size_words, translate

# option names that mean colour in any catalog
COLOUR_OPTION = re.compile(r"colou?r|finish|颜色|配色|色", re.IGNORECASE)


def price_range(catalog: Catalog, product: Product) -> Fact | None:
    """ "from 148.95 to 158.67 dollars" when its variants differ in price."""
    prices = sorted({Decimal(v.price_or(product.price)) for v in product.variants})
    if len(prices) < 2:
        return None
    low, high = (_plain(prices[0]), _plain(prices[-1]))
    name = product.spoken
    if len(product.variants) <= 3:  # few options: each with its price
        zh = "，".join(f"{v.name.get('zh')}{money(catalog, v.price_or(product.price), 'zh')}" for v in product.variants)
        en = _and(
            [f"{money(catalog, v.price_or(product.price), 'en')} for the {v.name.get('en')}" for v in product.variants],
            "en",
        )
        text = Text(zh=f"{name.get('zh')}：{zh}。", en=f"The {name.get('en')} costs {en}.")
        return _fact(product, "price", text)
    text = Text(
        zh=f"{name.get('zh')}的价格是{money(catalog, low, 'zh')}到{money(catalog, high, 'zh')}，看款式。",
        en=f"The {name.get('en')} costs from {money(catalog, low, 'en')} to {money(catalog, high, 'en')}, "
        "depending on the option.",
    )
    return _fact(product, "price", text)


def _plain(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text


def variant_label(product: Product, variant: Variant, lang: str) -> str:
    if lang == "zh":
        return f"{product.spoken.get('zh')}（{variant.name.get('zh')}）"
    return f"{product.spoken.get('en')} ({variant.name.get('en')})"


def named_variants(question: str, product: Product) -> list[Variant]:
    """The variants the question names: all their option values said (else some), or their name; of
    several, those it names most exactly ("16 pro max" over "16 pro")."""
    return _naming(question, product)[2]


def naming_strength(question: str, product: Product) -> tuple[bool, int]:
    """How well the question names one of the product's variants: whether every option of one is said
    (or its name), and how exactly. "white tee in medium" names a variant of the tee that comes in
    white and M, only half of one of a tee that has M but no white."""
    full, best, _ = _naming(question, product)
    return full, best


def _naming(question: str, product: Product) -> tuple[bool, int, list[Variant]]:
    scored = _scored(question, product)
    full = [(score, v) for score, v, complete in scored if complete]
    pool = full or [(score, v) for score, v, _ in scored]
    best = max((score for score, _ in pool), default=0)
    return bool(full), best, [v for score, v in pool if score == best]


def _scored(question: str, product: Product) -> list[tuple[int, Variant, bool]]:
    """Each variant the question says something of: its score, and whether all of it was said."""
    q = compact(question)
    words = set(re.findall(r"[a-z0-9]+", normalize(question)))
    own = set(re.findall(r"[a-z0-9]+", normalize(" ".join(product.name.variants()))))
    out = []
    for v in product.variants:
        hits = [_said(o, q, words, question, own) for o in v.options.values()]
        by_name = any(len(compact(t)) >= 2 and compact(t) in q for t in (*v.name.variants(), v.id))
        score = sum(hits) + (100 if by_name else 0)
        if score:
            out.append((score, v, by_name or bool(hits and all(hits))))
    return out


def names_an_option(question: str, products: list[Product]) -> bool:
    """Whether the question names any option value of these products (each distinct value tried once)."""
    values = {o.get("en"): o for p in products for v in p.variants for o in v.options.values()}
    q = compact(question)
    words = set(re.findall(r"[a-z0-9]+", normalize(question)))
    return any(_said(o, q, words, question, set()) for o in values.values())


def _said(value: Text, q: str, words: set[str], question: str, own: set[str]) -> int:
    """How exactly an option value is said in the question (0: not at all): whole, in the other
    language, by its distinctive words ("16 pro max" for "iPhone 16 Pro Max" on an iPhone case), or by
    its colour ("white" for "Pearl White")."""
    if any(compact(t) in q for t in _forms(value) if len(compact(t)) >= 2):
        return 1 + len(compact(value.get("en")))
    short = value.get("en").strip()
    if len(short) <= 2 and short.isupper():  # a size letter ("L", "XL") stands as a capital of its own
        return int(re.search(rf"(?<![A-Za-z]){re.escape(short)}(?![A-Za-z'])", question) is not None)
    distinct = [w for w in re.findall(r"[a-z0-9]+", normalize(value.get("en"))) if w not in own]
    if len(distinct) > 1 and all(w in words for w in distinct):
        return 1 + sum(len(w) for w in distinct)
    colour = colour_of(value.get("en")) or colour_of(value.get("zh"))
    said = colour is not None and any((compact(t) in q if CJK.search(t) else t in words) for t in colour.variants())
    return int(said)


def _forms(text: Text) -> list[str]:
    """An option value in both languages: the seller's words plus the vocabulary's for a colour."""
    forms = [t for t in text.variants()] + list(size_words(text.get("en")))
    colour = colour_of(text.get("en")) or colour_of(text.get("zh"))
    if colour:
        forms += colour.variants()
    return forms


def stock_fact(catalog: Catalog, product: Product, variants: list[Variant]) -> Fact | None:
    counted = [v for v in variants if v.stock is not None]
    if not counted:
        if product.stock is None:
            return None
        zh = (
            f"有货，{product.spoken.get('zh')}还有{product.stock}件。"
            if product.stock
            else f"没有货了，{product.spoken.get('zh')}已经售罄。"
        )
        en = (
            f"Yes, the {product.spoken.get('en')} is in stock: {product.stock} left."
            if product.stock
            else f"No, the {product.spoken.get('en')} is sold out."
        )
        return _fact(product, "stock", Text(zh=zh, en=en), polarity=product.stock > 0)
    if len(counted) == 1:
        v = counted[0]
        zh_name, en_name = variant_label(product, v, "zh"), variant_label(product, v, "en")
        if v.stock:
            text = Text(zh=f"有货，{zh_name}还剩{v.stock}件。", en=f"Yes, the {en_name} is in stock: {v.stock} left.")
        else:
            text = Text(zh=f"没有货了，{zh_name}已经售罄。", en=f"No, the {en_name} is sold out.")
        return _fact(product, "stock", text, polarity=bool(v.stock), variant=v.id)
    in_stock = [v for v in counted if v.stock]
    if not in_stock:
        text = Text(
            zh=f"没有货了，{product.spoken.get('zh')}都售罄了。", en=f"No, the {product.spoken.get('en')} is sold out."
        )
        return _fact(product, "stock", text, polarity=False)
    zh_items = "、".join(f"{v.name.get('zh')}{v.stock}件" for v in in_stock[:6])
    en_items = _and([f"{v.name.get('en')} ({v.stock})" for v in in_stock[:6]], "en")
    sold = [v for v in counted if not v.stock]
    zh_sold = f"，{'、'.join(v.name.get('zh') for v in sold[:4])}已售罄" if sold else ""
    en_sold = f"; {_and([v.name.get('en') for v in sold[:4]], 'en')} sold out" if sold else ""
    text = Text(
        zh=f"有货，{product.spoken.get('zh')}{zh_items}{zh_sold}。",
        en=f"Yes, the {product.spoken.get('en')} is in stock: {en_items} left{en_sold}.",
    )
    return _fact(product, "stock", text, polarity=True)


def options_fact(product: Product, question: str) -> Fact | None:
    if not product.variants:
        return None
    names = product.option_names()
    q = normalize(question)
    wanted = [n for n in names if asks_option(q, n)] or names
    zh_parts, en_parts = [], []
    for name in wanted[:2]:
        values = product.option_values(name)
        label = translate(name) or Text(zh=name, en=name)
        zh_parts.append(f"{label.get('zh')}有{_listing(values, label, 'zh')}")
        en_parts.append(_listing(values, label, "en"))
    if not names:
        items = [v.name for v in product.variants]
        zh_parts = [f"有{_and([t.get('zh') for t in items], 'zh')}"]
        en_parts = [_and([t.get("en") for t in items], "en")]
    text = Text(
        zh=f"{product.spoken.get('zh')}" + "，".join(zh_parts) + "。",
        en=f"The {product.spoken.get('en')} comes in " + "; and in ".join(en_parts) + ".",
    )
    return _fact(product, "options", text)


def _listing(values: list[Text], label: Text, lang: str) -> str:
    """Option values as a host says them: all of a few; a run of sizes from first to last ("US 7 to US 12");
    of many, how many and the first ones ("8 colors, including Black, White and Red")."""
    items = [v.get(lang) for v in values]
    if len(items) <= 6:
        return _and(items, lang)
    if all(re.search(r"\d", i) for i in items):
        return f"{items[0]}到{items[-1]}" if lang == "zh" else f"{items[0]} to {items[-1]}"
    if lang == "zh":
        return f"{len(items)}种，包括{'、'.join(items[:3])}等"
    word = label.get("en") if label.get("en").endswith("s") else label.get("en") + "s"
    return f"{len(items)} {word}, including {_and(items[:3], 'en')}"


def has_option_fact(product: Product, colour: str, question: str = "") -> Fact | None:
    """ "Does it come in purple?": yes with the variant, or no with what it does come in; "the L in
    orange?" is a no when no variant is both, with what the orange one comes in."""
    missing = _missing_combination(question, product) if question else None
    if missing is not None:
        return missing
    colour_names = [n for n in product.option_names() if COLOUR_OPTION.search(n)]
    values = [v for n in colour_names for v in product.option_values(n)]
    if not values:
        values = [v.name for v in product.variants if translate(v.name.get("en"), "colour") or _is_colour(v.name)]
    if not values:
        return None
    asked = translate(colour, "colour")
    asked_forms = {compact(t) for t in ((asked.variants() if asked else []) + [colour])}
    match = [
        v
        for v in values
        if asked_forms & {compact(t) for t in _forms(v)} or any(a in compact(v.get("en")) for a in asked_forms)
    ]
    listing_zh = _and([v.get("zh") for v in values], "zh")
    listing_en = _and([v.get("en") for v in values], "en")
    name = product.spoken
    if match:
        text = Text(
            zh=f"有的，{name.get('zh')}有{match[0].get('zh')}。",
            en=f"Yes, the {name.get('en')} comes in {match[0].get('en')}.",
        )
    else:
        asked_zh = asked.get("zh") if asked else colour
        asked_en = asked.get("en") if asked else colour
        text = Text(
            zh=f"没有{asked_zh}，{name.get('zh')}有{listing_zh}。",
            en=f"No, the {name.get('en')} doesn't come in {asked_en}; it comes in {listing_en}.",
        )
    return _fact(product, "options", text, polarity=bool(match))


def _missing_combination(question: str, product: Product) -> Fact | None:
    """A question naming values of two options ("L" and "orange") that no one variant has together."""
    q = compact(question)
    words = set(re.findall(r"[a-z0-9]+", normalize(question)))
    own = set(re.findall(r"[a-z0-9]+", normalize(" ".join(product.name.variants()))))
    said = {
        name: [v for v in product.option_values(name) if _said(v, q, words, question, own)]
        for name in product.option_names()
    }
    said = {name: values for name, values in said.items() if values}
    if len(said) < 2:
        return None

    def has(variant: Variant, name: str) -> bool:
        value = variant.options.get(name)
        return value is not None and any(value.get("en").lower() == v.get("en").lower() for v in said[name])

    if any(all(has(v, name) for name in said) for v in product.variants):
        return None
    # what the colour asked does come with ("orange": in S and M)
    first, *rest = sorted(said, key=lambda n: not COLOUR_OPTION.search(n))
    asked = said[first][0]
    with_it = [v for v in product.variants if has(v, first)]
    other = {n: list(dict.fromkeys(v.options[n].get("en") for v in with_it if n in v.options)) for n in rest}
    zh_other = {n: list(dict.fromkeys(v.options[n].get("zh") for v in with_it if n in v.options)) for n in rest}
    name = product.spoken
    return _fact(
        product,
        "options",
        Text(
            zh=f"没有这个组合，{name.get('zh')}的{asked.get('zh')}只有"
            + "、".join(_and(vals, "zh") for vals in zh_other.values())
            + "。",
            en=f"No, not together: the {name.get('en')} in {asked.get('en')} comes in "
            + "; ".join(_and(vals, "en") for vals in other.values())
            + " only.",
        ),
        polarity=False,
    )


def _is_colour(text: Text) -> bool:
    return any(translate(w, "colour") for w in re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]+", text.get("en")))


def extreme_variant(catalog: Catalog, product: Product, question: str, cheapest: bool) -> Fact | None:
    pool = named_variants(question, product) or list(product.variants)
    if not pool:
        return None
    key = lambda v: Decimal(v.price_or(product.price))  # noqa: E731
    best = min(pool, key=key) if cheapest else max(pool, key=key)
    price = best.price_or(product.price)
    word = ("最便宜", "cheapest") if cheapest else ("最贵", "most expensive")
    sold = best.stock == 0
    text = Text(
        zh=f"{word[0]}的是{variant_label(product, best, 'zh')}，{money(catalog, price, 'zh')}"
        + ("，不过目前售罄了。" if sold else "。"),
        en=f"The {word[1]} is the {variant_label(product, best, 'en')} at {money(catalog, price, 'en')}"
        + (", but it is sold out right now." if sold else "."),
    )
    return _fact(product, "price", text, variant=best.id)


def extreme_product(catalog: Catalog, products: list[Product], cheapest: bool, question: str = "") -> Fact | None:
    """The cheapest or dearest among products, over their variants that fit what was asked ("black")."""
    offers: list[tuple[Decimal, Product, Variant | None]] = []
    narrowed = bool(question) and names_an_option(question, products)
    for p in products:
        pool = named_variants(question, p) if narrowed else []
        if pool:
            offers += [(Decimal(v.price_or(p.price)), p, v) for v in pool]
        else:
            offers.append((Decimal(lowest_price(p) if cheapest else highest_price(p)), p, None))
    if not offers:
        return None
    price, best, variant = (min if cheapest else max)(offers, key=lambda o: o[0])
    amount = _plain(price)
    word = ("最便宜", "cheapest") if cheapest else ("最贵", "most expensive")
    zh_name = variant_label(best, variant, "zh") if variant else best.spoken.get("zh")
    en_name = variant_label(best, variant, "en") if variant else best.spoken.get("en")
    text = Text(
        zh=f"{word[0]}的是{zh_name}，{money(catalog, amount, 'zh')}。",
        en=f"The {word[1]} is the {en_name} at {money(catalog, amount, 'en')}.",
    )
    return _fact(best, "price", text, variant=variant.id if variant else None)


def lowest_price(p: Product) -> str:
    return str(min([Decimal(p.price), *(Decimal(v.price_or(p.price)) for v in p.variants)]))


def highest_price(p: Product) -> str:
    return str(max([Decimal(p.price), *(Decimal(v.price_or(p.price)) for v in p.variants)]))


def store_fact(catalog: Catalog, asked: str | None = None, found: list[Product] | None = None) -> Fact:
    """What the store sells, by category (or by product when it gives no categories)."""
    kinds: dict[str, Text] = {}
    for p in catalog.products:
        label = p.category or p.name
        kinds.setdefault(label.get("en").lower(), label)
    items = list(kinds.values())
    zh_list = "、".join(t.get("zh") for t in items[:8]) + ("等" if len(items) > 8 else "")
    en_names = [t.get("en") for t in items[:8]] + (["more"] if len(items) > 8 else [])
    en_list = en_names[0] if len(en_names) == 1 else ", ".join(en_names[:-1]) + " and " + en_names[-1]
    if found:
        names = [p.spoken for p in found[:3]]
        text = Text(
            zh=f"有的，我们有{_and([n.get('zh') for n in names], 'zh')}。",
            en=f"Yes, we have the {_and([n.get('en') for n in names], 'en')}.",
        )
        polarity: bool | None = True
    elif asked is not None:
        text = Text(zh=f"没有哦，我们店卖的是{zh_list}。", en=f"No, we don't sell that. We sell {en_list}.")
        polarity = False
    else:
        text = Text(zh=f"我们店卖{zh_list}。", en=f"We sell {en_list}.")
        polarity = None
    return Fact(
        id="store/range",
        kind="store",
        product_id=None,
        key="range",
        label=Text(zh="在售商品", en="what we sell"),
        value=text,
        statement=text,
        polarity=polarity,
    )


def _fact(product: Product, key: str, text: Text, polarity: bool | None = None, variant: str | None = None) -> Fact:
    return Fact(
        id=f"{product.id}/{key}" + (f"/{variant}" if variant else ""),
        kind=key,
        product_id=product.id,
        key=key,
        label=translate(key) or Text(zh=key, en=key),
        value=text,
        statement=text,
        polarity=polarity,
        variant=variant,
    )


def _and(items: list[str], lang: str) -> str:
    items = [i for i in items if i]
    if len(items) > 6:
        return (
            ("、".join(items[:4]) + f"等{len(items)}种")
            if lang == "zh"
            else (", ".join(items[:4]) + f" and {len(items) - 4} more")
        )
    if lang == "zh":
        return "、".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
