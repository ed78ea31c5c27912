"""Validating a parsed catalog and building the `Catalog` model from it.

Every problem is collected (file, line, field, plain reason) so a seller fixes them all in one go.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from knowledge.catalog import FAQ, LANGUAGES, Catalog, Product, SpecValue, Store, Text, Variant
from knowledge.compile import compile_catalog
from knowledge.sources import CatalogError, Path_, Problem, RawCatalog, read
from knowledge.text import CJK
from knowledge.values import yes_no

SAMPLE_CATALOG = Path(__file__).parent / "sample" / "catalog.yaml"

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# a spec key or option name is the seller's own word, in any language: "battery_life", "续航", "Cable Length"
KEY_PATTERN = re.compile(r"^[^\x00-\x1f]{1,64}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
TOP_FIELDS = {"store", "products", "spec_labels", "products_from"}
STORE_FIELDS = {"name", "currency", "policies"}
PRODUCT_FIELDS = {
    "id",
    "name",
    "category",
    "aliases",
    "price",
    "original_price",
    "description",
    "specs",
    "variants",
    "faq",
    "extra",
    "stock",
}
VARIANT_FIELDS = {"id", "name", "price", "specs", "options", "stock", "sku"}
FAQ_FIELDS = {"q", "a"}


def load_catalog(path: Path | str) -> Catalog:
    """Load and validate a catalog file; raises CatalogError listing every problem."""
    path = Path(path)
    raw = read(path)
    builder = _Builder(raw, path)
    builder.notes += raw.notes
    catalog = builder.build()
    problems = raw.problems + builder.problems
    if problems or catalog is None:
        raise CatalogError(problems or [Problem(raw.file, None, "", "catalog is empty")])
    return catalog


def field_name(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Builder:
    def __init__(self, raw: RawCatalog, path: Path):
        self.raw = raw
        self.path = path
        self.problems: list[Problem] = []
        self.notes: list[str] = []  # fields read in a way the seller may want to check
        self.ids: list[tuple[str, Path_, RawCatalog]] = []  # every valid id seen, even on broken products

    def problem(self, path: Path_, reason: str, raw: RawCatalog | None = None) -> None:
        raw = raw or self.raw
        self.problems.append(Problem(raw.file, raw.line(path), field_name(path), reason))

    # --- top level -------------------------------------------------------------------------

    def build(self) -> Catalog | None:
        data = self.raw.data
        if data is None:
            self.problem((), "the file is empty")
            return None
        if not isinstance(data, dict):
            self.problem((), "expected a mapping with 'store' and 'products' at the top level")
            return None
        self._unknown_fields(data, TOP_FIELDS, ())
        store = self._store(data.get("store"))
        labels = self._labels(data.get("spec_labels"))
        products = self._products(data.get("products"), ("products",), self.raw, required="products_from" not in data)
        if "products_from" in data:
            products += self._included(data["products_from"])
        self._check_duplicates()
        if not products and not self.problems:
            self.problem(("products",), "no products")
        if self.problems:
            return None
        return compile_catalog(
            Catalog(store=store, products=tuple(p for p, _, _ in products), spec_labels=labels, source=self.path),
            self.notes,
        )

    def _included(self, value: Any) -> list[tuple[Product, Path_, RawCatalog]]:
        files = value if isinstance(value, list) else [value]
        out: list[tuple[Product, Path_, RawCatalog]] = []
        for i, name in enumerate(files):
            where: Path_ = ("products_from", i) if isinstance(value, list) else ("products_from",)
            if not isinstance(name, str):
                self.problem(where, "expected a file name")
                continue
            try:
                raw = read(self.path.parent / name)
            except CatalogError as e:
                self.problems.extend(e.problems)
                continue
            self.problems.extend(raw.problems)
            self.notes += raw.notes
            if not isinstance(raw.data, dict):
                self.problem((), "expected a product list", raw)
                continue
            out += self._products(raw.data.get("products"), ("products",), raw, required=True)
        return out

    def _check_duplicates(self) -> None:
        first: dict[str, tuple[Path_, RawCatalog]] = {}
        for pid, path, raw in self.ids:
            if pid in first:
                where, other = first[pid]
                at = f"{other.file}:{other.line(where)}" if other is not raw else f"line {raw.line(where)}"
                self.problem(path, f"duplicate product id '{pid}' (first defined at {at})", raw)
            else:
                first[pid] = (path, raw)

    def _unknown_fields(
        self, data: dict[str, Any], allowed: set[str], path: Path_, raw: RawCatalog | None = None
    ) -> None:
        for key in data:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                self.problem((*path, key), f"unknown field '{key}' (expected one of: {hint})", raw)

    def _store(self, data: Any) -> Store:
        default = Store(name=Text.same(self.path.stem))
        if data is None:
            return default
        if not isinstance(data, dict):
            self.problem(("store",), "expected a mapping with name, currency and policies")
            return default
        self._unknown_fields(data, STORE_FIELDS, ("store",))
        name = self._text(data.get("name"), ("store", "name"), self.raw, required=False) or default.name
        currency = data.get("currency", "CNY")
        if not isinstance(currency, str) or not CURRENCY_PATTERN.match(currency):
            self.problem(("store", "currency"), f"'{currency}' is not a 3-letter currency code such as CNY or USD")
            currency = "CNY"
        policies: dict[str, Text] = {}
        raw_policies = data.get("policies") or {}
        if not isinstance(raw_policies, dict):
            self.problem(("store", "policies"), "expected a mapping such as {shipping: ..., returns: ...}")
        else:
            for key, value in raw_policies.items():
                text = self._text(value, ("store", "policies", key), self.raw, required=True)
                if text:
                    policies[str(key)] = text
        return Store(name=name, currency=currency, policies=policies)

    def _labels(self, data: Any) -> dict[str, Text]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.problem(("spec_labels",), "expected a mapping from spec key to label")
            return {}
        out = {}
        for key, value in data.items():
            text = self._text(value, ("spec_labels", key), self.raw, required=True)
            if text:
                out[str(key)] = text
        return out

    # --- products ---------------------------------------------------------------------------

    def _products(
        self, data: Any, path: Path_, raw: RawCatalog, required: bool
    ) -> list[tuple[Product, Path_, RawCatalog]]:
        if data is None:
            if required:
                self.problem(path, "missing: the catalog needs a 'products' list", raw)
            return []
        if not isinstance(data, list):
            self.problem(path, "expected a list of products", raw)
            return []
        out = []
        for i, item in enumerate(data):
            product = self._product(item, (*path, i), raw)
            if product:
                out.append((product, (*path, i), raw))
        return out

    def _product(self, data: Any, path: Path_, raw: RawCatalog) -> Product | None:
        if not isinstance(data, dict):
            self.problem(path, "expected a product mapping with id, name and price", raw)
            return None
        before = len(self.problems)
        pid = self._id(data.get("id"), (*path, "id"), raw)
        if pid:
            self.ids.append((pid, (*path, "id"), raw))
        name = self._text(data.get("name"), (*path, "name"), raw, required=True)
        price = self._price(data.get("price"), (*path, "price"), raw, required=True)
        original = self._price(data.get("original_price"), (*path, "original_price"), raw, required=False)
        category = self._text(data.get("category"), (*path, "category"), raw, required=False)
        description = self._text(data.get("description"), (*path, "description"), raw, required=False)
        aliases = self._aliases(data.get("aliases"), (*path, "aliases"), raw)
        specs = self._specs(data.get("specs"), (*path, "specs"), raw)
        # a field of the seller's own ("brand", "保修期") is a spec; a misspelt known field ("prcie") is an error
        extra = {}
        for key, value in data.items():
            if key in PRODUCT_FIELDS:
                continue
            near = difflib.get_close_matches(str(key), PRODUCT_FIELDS, n=1, cutoff=0.75)
            if near or isinstance(value, (dict, list)):
                hint = f"did you mean '{near[0]}'?" if near else "a spec of your own must be a single value"
                self.problem((*path, key), f"unknown field '{key}' ({hint})", raw)
            else:
                extra[key] = value
        for key, value in self._specs(extra, path, raw).items():
            specs.setdefault(key, value)
        stock = self._count(data.get("stock"), (*path, "stock"), raw)
        variants = self._variants(data.get("variants"), (*path, "variants"), raw)
        faq = self._faq(data.get("faq"), (*path, "faq"), raw)
        if len(self.problems) > before or pid is None or name is None or price is None:
            return None
        return Product(
            id=pid,
            name=name,
            price=price,
            category=category,
            aliases=aliases,
            original_price=original,
            description=description,
            specs=specs,
            variants=variants,
            faq=faq,
            stock=stock,
        )

    def _id(self, value: Any, path: Path_, raw: RawCatalog) -> str | None:
        if value is None or value == "":
            self.problem(path, "missing id", raw)
            return None
        value = str(value)
        if not ID_PATTERN.match(value):
            self.problem(path, f"'{value}' is not a valid id (letters, digits, '.', '_' or '-', no spaces)", raw)
            return None
        return value

    def _price(self, value: Any, path: Path_, raw: RawCatalog, required: bool) -> str | None:
        if value is None or value == "":
            if required:
                self.problem(path, "missing price", raw)
            return None
        if isinstance(value, bool):
            self.problem(path, f"'{value}' is not a price", raw)
            return None
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.problem(path, f"cannot read '{value}' as a price (write a plain number in the store currency)", raw)
            return None
        if not amount.is_finite() or amount < 0:
            self.problem(path, f"'{value}' is not a valid price (must be a number >= 0)", raw)
            return None
        return format_number(amount)

    def _aliases(self, value: Any, path: Path_, raw: RawCatalog) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            self.problem(path, "expected a list of short names", raw)
            return ()
        return tuple(str(v).strip() for v in value if str(v).strip())

    def _text(self, value: Any, path: Path_, raw: RawCatalog, required: bool) -> Text | None:
        if value is None or value == "":
            if required:
                self.problem(path, "missing text", raw)
            return None
        if isinstance(value, bool):
            self.problem(path, "expected text, got a yes/no value", raw)
            return None
        if isinstance(value, (str, int, float)):
            return bilingual(str(value).strip())
        if not isinstance(value, dict):
            self.problem(path, "expected text or {zh: ..., en: ...}", raw)
            return None
        ok = True
        for lang, text in value.items():
            if lang not in LANGUAGES:
                self.problem((*path, lang), f"unknown language key '{lang}' (use zh or en)", raw)
                ok = False
            elif not isinstance(text, (str, int, float)) or isinstance(text, bool) or not str(text).strip():
                self.problem((*path, lang), "expected non-empty text", raw)
                ok = False
        if not ok:
            return None
        return Text(zh=_opt(value.get("zh")), en=_opt(value.get("en")))

    def _specs(self, value: Any, path: Path_, raw: RawCatalog) -> dict[str, SpecValue]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, "expected a mapping from spec name to value", raw)
            return {}
        out: dict[str, SpecValue] = {}
        for key, item in value.items():
            key = str(key).strip()
            if not KEY_PATTERN.match(key):
                self.problem((*path, key), f"spec name '{key}' must be 1 to 64 characters on one line", raw)
                continue
            if item is None or item == "":
                continue  # an empty cell says nothing
            if isinstance(item, list) and all(isinstance(v, (str, int, float)) for v in item):
                item = ", ".join(str(v).strip() for v in item)
            reading = yes_no(item)
            if reading is not None:
                out[key] = reading
            elif isinstance(item, (int, float)):
                out[key] = Text.same(format_number(Decimal(str(item))))
            else:
                text = self._text(item, (*path, key), raw, required=True)
                if text:
                    out[key] = text
        return out

    def _variants(self, value: Any, path: Path_, raw: RawCatalog) -> tuple[Variant, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, "expected a list of variants", raw)
            return ()
        out: list[Variant] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            where = (*path, i)
            if not isinstance(item, dict):
                self.problem(where, "expected a variant mapping with id and name", raw)
                continue
            self._unknown_fields(item, VARIANT_FIELDS, where, raw)
            options = self._options(item.get("options"), (*where, "options"), raw)
            given = item.get("id") if item.get("id") not in (None, "") else item.get("sku")
            vid = self._id(given if given not in (None, "") else f"v{i + 1}", (*where, "id"), raw)
            if item.get("name") not in (None, ""):
                name = self._text(item.get("name"), (*where, "name"), raw, required=True)
            elif options:  # named by its options: "Black / M"
                name = Text(
                    zh=" ".join(v.get("zh") for v in options.values()),
                    en=" / ".join(v.get("en") for v in options.values()),
                )
            else:
                name = Text.same(str(given)) if given not in (None, "") else None
                if name is None:
                    self.problem((*where, "name"), "missing text: a variant needs a name, options or an id", raw)
            price = self._price(item.get("price"), (*where, "price"), raw, required=False)
            stock = self._count(item.get("stock"), (*where, "stock"), raw)
            specs = self._specs(item.get("specs"), (*where, "specs"), raw)
            if vid and vid in seen:
                self.problem((*where, "id"), f"duplicate variant id '{vid}'", raw)
            elif vid and name:
                seen.add(vid)
                out.append(Variant(id=vid, name=name, price=price, specs=specs, options=options, stock=stock))
        return tuple(out)

    def _options(self, value: Any, path: Path_, raw: RawCatalog) -> dict[str, Text]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, "expected a mapping from option name to value, such as {color: black, size: M}", raw)
            return {}
        out: dict[str, Text] = {}
        for key, item in value.items():
            key = str(key).strip()
            if not KEY_PATTERN.match(key):
                self.problem((*path, key), f"option name '{key}' must be 1 to 64 characters on one line", raw)
                continue
            if item is None or item == "":
                continue
            text = self._text(item, (*path, key), raw, required=True)
            if text:
                out[key] = text
        return out

    def _count(self, value: Any, path: Path_, raw: RawCatalog) -> int | None:
        if value is None or value == "":
            return None
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = Decimal(-1)
        if isinstance(value, bool) or not amount.is_finite() or amount < 0 or amount != amount.to_integral_value():
            self.problem(path, f"'{value}' is not a stock count (a whole number, 0 for sold out)", raw)
            return None
        return int(amount)

    def _faq(self, value: Any, path: Path_, raw: RawCatalog) -> tuple[FAQ, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, "expected a list of {q: ..., a: ...}", raw)
            return ()
        out = []
        for i, item in enumerate(value):
            where = (*path, i)
            if not isinstance(item, dict):
                self.problem(where, "expected {q: ..., a: ...}", raw)
                continue
            self._unknown_fields(item, FAQ_FIELDS, where, raw)
            q = self._text(item.get("q"), (*where, "q"), raw, required=True)
            a = self._text(item.get("a"), (*where, "a"), raw, required=True)
            if q and a:
                out.append(FAQ(q=q, a=a))
        return tuple(out)


# "氮化镓充电器 65W / GaN Charger 65W", "白色 | White": a seller's two languages in one cell
TWO_LANGUAGES = re.compile(r"^([^/|]+?)\s+[/|]\s+([^/|]+)$")


def bilingual(text: str) -> Text:
    """A text in one language, or a Chinese and an English text written side by side, told apart."""
    m = TWO_LANGUAGES.match(text)
    if m:
        left, right = m.group(1).strip(), m.group(2).strip()
        for zh, en in ((left, right), (right, left)):
            if CJK.search(zh) and not CJK.search(en) and re.search(r"[A-Za-z]{2}", en):
                return Text(zh=zh, en=en)
    return Text.same(text)


def _opt(value: Any) -> str | None:
    return str(value).strip() if value is not None else None


def format_number(amount: Decimal) -> str:
    """A number as a seller would write it: 199, 1299.5 (no exponent, no trailing zeros)."""
    text = format(amount.normalize(), "f")
    return text
