"""Reading a seller's values: which ones are a yes or a no.

"yes", "支持", "true" are a yes; "no", "none", "不支持" a no; a value that opens with one ("none
(plug-in only)", "无，需插电") is a yes/no fact with a remark. Everything else is a value to say as written.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.catalog import SpecValue

YES_WORDS = frozenset(
    ("yes", "y", "true", "supported", "available", "included", "✓", "√", "有", "是", "支持", "带", "可以", "具备")
)
NO_WORDS = frozenset(
    ("no", "n", "false", "none", "unsupported", "not supported", "not available", "not included", "n/a", "✗", "×")
    + ("无", "否", "不支持", "没有", "不带", "不可以", "不具备")
)


def yes_no(value: Any) -> bool | None:
    """A spec value that is only a yes or a no ("yes", "不支持", true), as a boolean; else None."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    word = value.strip().strip(".。!！").lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


# a value that opens with a yes or a no ("none (wired only)", "无，需插电"): a yes/no fact with a remark
VALUE_NO = re.compile(r"^\s*(no|none|not|without|无|不支持|没有|不带|否)(?=$|[\s(（,，;；:：-])", re.IGNORECASE)
VALUE_YES = re.compile(r"^\s*(yes|支持|有|是)(?=$|[\s(（,，;；:：-])", re.IGNORECASE)


def value_polarity(value: SpecValue) -> bool | None:
    if isinstance(value, bool):
        return value
    text = value.get("en") if value.has("en") else value.get("zh")
    if VALUE_NO.match(text):
        return False
    if VALUE_YES.match(text):
        return True
    return None
