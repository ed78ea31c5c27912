"""The form of a viewer's question: which catalog query it is, read from words any shop's viewers use.

"cheapest black one?", "is the white one in stock?", "what sizes?", "does it come in purple?", "what do
you sell?", "which one under 50?": the operation and its argument; the catalog supplies the rest
(`agent/answer/operations.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.catalog import Product
from knowledge.text import normalize
from knowledge.vocabulary import all_colour_words, translate

# the form of a question, in words any shop's viewers use
STORE_RANGE = re.compile(
    r"what (do|does|else do) (you|u|your (shop|store))( guys)? (sell|have|carry|offer)|what('s| is) (in )?(your|the) "
    r"(shop|store)|你们(店|家)?(都|主要)?(卖|有)(些)?(什么|啥)|店里(都|主要)?(卖|有)(些)?(什么|啥)|都卖(些)?(什么|啥)",
    re.IGNORECASE,
)
SELL_ASK = re.compile(
    r"\b(do|does) (you|u|your (shop|store))( guys)? (sell|have|carry|stock|offer)\b|\bany (.+) for sale\b"
    r"|有没有卖|有卖.{1,12}吗|有.{1,12}卖吗|卖不卖|(你们|店里|你家).{0,4}(卖|有).{1,12}吗",
    re.IGNORECASE,
)
CHEAPEST = re.compile(
    r"cheapest|least expensive|lowest price|most affordable"
    r"|最便宜|最实惠|价格最低|最低价|最低多少钱|最少多少钱|最低要多少",
    re.IGNORECASE,
)
DEAREST = re.compile(r"most expensive|dearest|priciest|highest price|最贵|价格最高|最高端", re.IGNORECASE)
STOCK = re.compile(
    r"in stock|out of stock|sold out|how many (are )?left|any left|available (now|right now)|still available"
    r"|\bleft\W*$|\bavailable\W*$|有货|有现货|缺货|库存|还剩|剩几|卖完|售罄|还有吗|还有几",
    re.IGNORECASE,
)
OPTIONS = re.compile(
    r"what (colou?rs?|sizes?|finish(es)?|versions?|options|styles?|variants?|capacities|models)"
    r"|which (colou?rs?|sizes?|finish(es)?|versions?|options|styles?|capacities)"
    r"|(colou?rs?|sizes?|finish(es)?|versions?|options|styles?|capacities) (does|do|are|is) .*(come|available|have)"
    r"|come in\??$|有(哪些|哪几|什么|几)(种|个|款)?(颜色|配色|尺码|尺寸|版本|款式|规格|容量|套餐)"
    r"|(颜色|配色|尺码|版本|款式|规格|容量|套餐)(有)?(哪些|哪几|几种|几个|多少种)",
    re.IGNORECASE,
)
OVERVIEW = re.compile(
    r"tell me (about|more about)|what is (the|this|that)\b.*\?$|introduce|what('s| is) (it|this|this one)$"
    r"|介绍|讲讲|说说|是什么(东西|产品)?[?？]*$|有什么(特点|亮点|卖点)",
    re.IGNORECASE,
)
RECOMMEND = re.compile(
    r"recommend|suggest|which (one|should|would|is best|is better for)|what should i (get|buy)|best for|good for"
    r"|\bbudget\b|under \$?\d|below \$?\d|less than \$?\d"
    r"|^(?:(?:hi|hey|hello)\W+)?(?:i(?:'m| am)? )?(?:need|looking for|want|after) (?:a|an|some|something)\b"
    r"|\bany suggestions?\b|which [\w\s-]{1,30}? should (?:i|we) (?:get|buy|choose|pick)"
    r"|推荐|买哪|选哪|哪个(好|适合|合适)|哪款(好|适合|合适)|适合.{0,8}(哪|吗)|预算|以内|以下|不超过"
    r"|^(?:我)?(?:想要|想买|需要)(?:一)?(?:个|款|台|把|双|件)",
    re.IGNORECASE,
)
BUDGET = re.compile(
    r"(?:under|below|less than|max(?:imum)?|budget(?: of| is)?|up to|within)\s*[$€¥]?\s*(\d+(?:\.\d+)?)"
    r"|(\d+(?:\.\d+)?)\s*(?:元|块|美元|欧)?(?:以内|以下|之内|左右)|预算\s*(\d+(?:\.\d+)?)|不超过\s*(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Query:
    """A catalog query read off a question: the operation and its scope."""

    operation: str  # store | sell | cheapest | dearest | stock | options | has_option | overview | recommend
    value: str | None = None  # the option value asked about ("purple"), or the budget


def read_query(question: str) -> Query | None:
    q = normalize(question)
    if STORE_RANGE.search(q):
        return Query("store")
    if CHEAPEST.search(q):
        return Query("cheapest")
    if DEAREST.search(q):
        return Query("dearest")
    if STOCK.search(q):
        return Query("stock")
    if OPTIONS.search(q):
        return Query("options")
    colour = asked_colour(q)
    if colour:
        return Query("has_option", colour)
    if RECOMMEND.search(q):
        budget = BUDGET.search(q)
        return Query("recommend", next((g for g in budget.groups() if g), None) if budget else None)
    if SELL_ASK.search(q):
        return Query("sell")
    if OVERVIEW.search(q):
        return Query("overview")
    return None


def asked_colour(q: str) -> str | None:
    """A colour named in a yes/no question ("does it come in purple", "有紫色的吗")."""
    if not re.search(
        r"come in|comes in|available in|have (it|one|this|that|them) in|get (it|one) in|make (it|one) in"
        r"|in (a |the )?\w+\?*$|有没有|有.{0,6}吗|是.{0,4}吗",
        q,
    ):
        return None
    words = sorted(all_colour_words(), key=len, reverse=True)
    for w in words:
        if re.search(r"[a-z]", w):
            if re.search(rf"\b{re.escape(w)}\b", q):
                return w
        elif w in q and len(w) >= 2:
            return w
    return None


def asks_option(q: str, name: str) -> bool:
    label = translate(name)
    forms = [normalize(name), *(label.variants() if label else [])]
    stems = {f.rstrip("s") for f in forms if f}
    return any(s and s in q for s in stems)


def asks_own_option(question: str, product: Product | None) -> Query | None:
    """ "What switches can I get on the K75?": a wh-question naming one of the product's option names."""
    if product is None or not product.variants:
        return None
    q = normalize(question)
    if not re.search(r"\b(what|which|any other|other)\b|哪些|哪几|什么|几种|几个|多少种", q):
        return None
    return Query("options") if any(asks_option(q, n) for n in product.option_names()) else None
