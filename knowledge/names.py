"""Product names as a host says them.

Sellers title their listings for search, not for speech: "悦颜S1 直发夹板 直卷两用 负离子", "TreatCam C1
Pet Camera with Treat Toss". A host says "悦颜S1 直发夹板", "TreatCam C1 Pet Camera". The spoken name keeps
the title's opening up to its model code and the product's noun; the rest (selling points, "with ...",
"for ...") is left to the answer. A catalog keeps a full title wherever the short ones would collide,
and its own name wherever it is short already.
"""

from __future__ import annotations

import re

from knowledge.catalog import Product, Text
from knowledge.text import CJK

MAX_CHUNKS = 3
# where an English title's selling points begin: "... Camera with Treat Toss", "Case for iPhone", "Pro - 2 Pack"
TAIL = re.compile(r"\s+(?:with|for|featuring|incl\.?|including)\s+|\s+[-–|]\s+|\s*[(,（，]", re.IGNORECASE)
MODEL = re.compile(r"[A-Za-z]*\d+[A-Za-z]*")


def spoken_title(title: str) -> str:
    """A listing title cut to what a host says: its opening, model code and product noun."""
    title = title.strip()
    if CJK.search(title):
        chunks = title.split()
        if len(chunks) <= 2:
            return title
        coded = next((i for i, c in enumerate(chunks) if MODEL.search(c)), None)
        end = 1 if coded is None else coded + 1
        # the product's noun: the first Chinese chunk after the code ("悦颜F2 mini 迷你筋膜枪" -> up to 迷你筋膜枪)
        while end < len(chunks) and end < MAX_CHUNKS and not CJK.search(" ".join(chunks[:end])[-1]):
            end += 1
        if coded is not None and end == coded + 1 and end < len(chunks) and CJK.search(chunks[end]):
            end += 1
        return " ".join(chunks[:end])
    cut = TAIL.search(title)
    short = title[: cut.start()].strip() if cut else title
    return short if len(short.split()) >= 2 else title


def spoken_names(products: tuple[Product, ...]) -> dict[str, Text]:
    """Each product's spoken name, where it differs from its name and no other product would share it."""
    said = {
        p.id: Text(
            zh=spoken_title(p.name.zh) if p.name.zh else None,
            en=spoken_title(p.name.en) if p.name.en else None,
        )
        for p in products
    }
    taken: dict[str, int] = {}
    for text in said.values():
        for t in set(text.variants()):
            taken[t.lower()] = taken.get(t.lower(), 0) + 1
    out: dict[str, Text] = {}
    for p in products:
        text = said[p.id]
        if text != p.name and all(taken[t.lower()] == 1 for t in set(text.variants())):
            out[p.id] = text
    return out
