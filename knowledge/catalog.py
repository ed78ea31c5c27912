"""The catalog's domain model: a store, its products, their specs, variants and FAQs.

Everything here is immutable and already validated; `knowledge.loader` builds it from a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Text:
    """A bilingual string; either language may be missing (never both)."""

    zh: str | None = None
    en: str | None = None

    def get(self, lang: str) -> str:
        """The text in `lang`, or in the other language when `lang` is missing."""
        own = self.zh if lang == "zh" else self.en
        if own:
            return own
        return self.en or self.zh or ""

    def has(self, lang: str) -> bool:
        return bool(self.zh if lang == "zh" else self.en)

    def variants(self) -> list[str]:
        return [t for t in (self.zh, self.en) if t]

    @staticmethod
    def same(value: str) -> Text:
        """A language-neutral value (a number, a model code) usable in both languages."""
        return Text(zh=value, en=value)


SpecValue = Text | bool  # bool: True = supported, False = not supported


@dataclass(frozen=True)
class Variant:
    id: str
    name: Text
    price: str | None = None  # None: same price as the product
    specs: dict[str, SpecValue] = field(default_factory=dict)
    options: dict[str, Text] = field(default_factory=dict)  # option name -> value: {"color": black, "size": M}
    stock: int | None = None  # units in stock, when the catalog says

    def price_or(self, product_price: str) -> str:
        return self.price or product_price


@dataclass(frozen=True)
class FAQ:
    q: Text
    a: Text


@dataclass(frozen=True)
class Product:
    id: str
    name: Text
    price: str  # as written in the catalog, e.g. "199" or "1299.5"
    category: Text | None = None
    aliases: tuple[str, ...] = ()
    original_price: str | None = None
    description: Text | None = None
    specs: dict[str, SpecValue] = field(default_factory=dict)
    variants: tuple[Variant, ...] = ()
    faq: tuple[FAQ, ...] = ()
    stock: int | None = None
    said_as: Text | None = None  # the name as a host says it, when the title is long (knowledge/names.py)

    @property
    def spoken(self) -> Text:
        """The name an answer says: the short one when the compile step found one, else the name."""
        return self.said_as or self.name

    def option_names(self) -> list[str]:
        """The option names its variants use (color, size...), in order of first use."""
        return list(dict.fromkeys(name for v in self.variants for name in v.options))

    def option_values(self, name: str) -> list[Text]:
        """The values of one option over the variants, in order, each once."""
        seen: dict[str, Text] = {}
        for v in self.variants:
            value = v.options.get(name)
            if value is not None:
                if len(v.options) == 1 and v.name.zh and v.name.en and v.name.zh != v.name.en and value.zh == value.en:
                    value = Text(zh=v.name.zh, en=value.get("en"))  # the seller named it in Chinese too
                seen.setdefault(value.get("en").lower(), value)
        return list(seen.values())


@dataclass(frozen=True)
class Store:
    name: Text
    currency: str = "CNY"
    policies: dict[str, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    store: Store
    products: tuple[Product, ...]
    spec_labels: dict[str, Text] = field(default_factory=dict)
    source: Path | None = None
    # the compile step's readings of what the seller did not spell out: labels of keys and option names
    inferred_labels: dict[str, Text] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what the compile step inferred, for `livehost catalog check`

    def product(self, product_id: str) -> Product:
        return self._by_id()[product_id]

    def has_product(self, product_id: str) -> bool:
        return product_id in self._by_id()

    def _by_id(self) -> dict[str, Product]:
        found: dict[str, Product] | None = self.__dict__.get("_ids")
        if found is None:  # built once; the catalog is immutable
            found = {p.id: p for p in self.products}
            object.__setattr__(self, "_ids", found)
        return found

    def spec_label(self, key: str) -> Text:
        """The spoken label of a spec key: the catalog's own, else a readable form of the key."""
        if key in self.spec_labels:
            return self.spec_labels[key]
        if key in self.inferred_labels:
            return self.inferred_labels[key]
        readable = key.replace("_", " ")
        return Text(zh=readable, en=readable)
