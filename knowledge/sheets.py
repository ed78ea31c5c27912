"""Spreadsheets as sellers export them (CSV, XLSX): columns mapped to catalog fields by meaning.

A shop platform's export names its columns its own way: 商品编号/商品名称/价格/原价/类目/规格/库存,
or Handle/Title/Variant Price/Option1 Name/Option1 Value. Each header is matched to a catalog field
by a table of the names platforms use, in both languages; rows that share a product id are one
product's variants; every other column is kept as a spec. The mapping is reported, so
`livehost catalog check` can show the seller how their sheet was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.text import compact

# field -> header names platforms use (compared without case, spaces or punctuation)
HEADERS: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "product id",
        "product_id",
        "handle",
        "商品编号",
        "商品id",
        "商品编码",
        "货号",
        "款号",
        "spu",
        "item id",
    ),
    "name": (
        "name",
        "title",
        "product name",
        "product title",
        "商品名称",
        "商品标题",
        "名称",
        "品名",
        "标题",
        "宝贝名称",
    ),
    "price": (
        "price",
        "variant price",
        "regular price",
        "价格",
        "售价",
        "现价",
        "销售价",
        "一口价",
        "单价",
        "sku价格",
    ),
    # a price that holds while a sale runs (WooCommerce): the price then, the regular one its original
    "sale_price": ("sale price", "促销价", "活动价", "折后价"),
    "original_price": (
        "original price",
        "compare at price",
        "variant compare at price",
        "list price",
        "msrp",
        "原价",
        "划线价",
        "市场价",
        "吊牌价",
    ),
    "category": (
        "category",
        "categories",
        "product categories",
        "type",
        "product type",
        "类目",
        "分类",
        "品类",
        "商品类目",
        "类别",
        "商品分类",
    ),
    "description": (
        "description",
        "short description",
        "body",
        "body (html)",
        "body html",
        "描述",
        "商品描述",
        "简介",
        "详情",
        "卖点",
    ),
    "stock": ("stock", "inventory", "variant inventory qty", "inventory qty", "qty", "quantity", "库存", "库存数量"),
    "sku": ("sku", "variant sku", "sku id", "sku编号", "sku编码", "规格编码", "sku编码id"),
    "variant": ("规格", "规格名称", "销售属性", "sku属性", "variant", "variant title", "规格信息"),
    "aliases": ("aliases", "alias", "别名", "简称"),
    # a variation's row names its product's SKU or id here (WooCommerce: "Parent", "id:101")
    "parent": ("parent", "parent sku", "parent id", "父商品", "父级商品", "所属商品"),
    "in_stock": ("in stock?", "in stock", "stock status", "是否有货", "库存状态"),
}
# what a platform's "Type" column holds when it is the listing's kind, not the product's category
LISTING_KINDS = frozenset({"simple", "variable", "variation", "grouped", "external", "bundle"})
# columns that describe the listing, not the product: never spoken
IGNORED = re.compile(
    r"image|img|url|link|图片|链接|seo|published|status|状态|上架|gift card|template|weight unit|barcode|tags|标签"
    r"|featured|visibility|visible|global|tax|backorders|reviews|shipping class|position|menu order|purchase note"
)
# Shopify's "Option1 Name/Value", WooCommerce's "Attribute 1 name/value(s)"
OPTION = re.compile(r"^(?:option|attribute)\s*(\d+)\s*(name|values?|value\(s\))$", re.IGNORECASE)
LANG_SUFFIX = re.compile(r"^(name|category|description)[_:](zh|en)$")
SPEC_PREFIX = re.compile(r"^(?:spec|meta|attr|属性)[:.]", re.IGNORECASE)
# "颜色:白色;套餐:标配" / "Color: Black, Size: M"
PAIR = re.compile(r"\s*([^:：;；,，|]+?)\s*[:：]\s*([^;；,，|]+)")

_BY_HEADER = {compact(h): f for f, names in HEADERS.items() for h in names}


@dataclass
class SheetRow:
    line: int
    cells: dict[str, str]


@dataclass
class Sheet:
    """What a sheet's columns were read as, and the products built from its rows."""

    mapping: dict[str, str] = field(default_factory=dict)  # header -> field or "spec"/"ignored"/"option"
    products: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the first row of each product
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)


def column_field(header: str) -> str:
    """The catalog field a column holds: id, name, price..., or 'spec' for anything else."""
    h = header.strip()
    if SPEC_PREFIX.match(h) or LANG_SUFFIX.match(h.lower()):
        return "spec" if SPEC_PREFIX.match(h) else h.lower().replace(":", "_")
    if OPTION.match(h):
        return "option"
    known = _BY_HEADER.get(compact(h))
    if known:
        return known
    return "ignored" if IGNORED.search(h.lower()) else "spec"


def read_rows(header: list[str], rows: list[SheetRow]) -> Sheet:
    sheet = Sheet(mapping=Columns({h: column_field(h) for h in header if h}))
    _listing_kinds(sheet.mapping, rows)
    parents = _parent_keys(rows, sheet.mapping)
    groups: dict[str, list[SheetRow]] = {}
    last: str | None = None
    for row in rows:
        ref = _reference(_cell(row, sheet.mapping, "parent"))
        if ref:
            pid = parents.get(ref, ref)
        elif parents:
            pid = parents.get(_cell(row, sheet.mapping, "id")) or _cell(row, sheet.mapping, "sku")
        else:
            pid = _cell(row, sheet.mapping, "id")
        if not pid and last is not None and not _cell(row, sheet.mapping, "name"):
            pid = last  # Shopify leaves the product's columns empty on its 2nd+ variant rows
        if not pid:
            sheet.problems.append((row.line, "id", "missing product id"))
            continue
        groups.setdefault(pid, []).append(row)
        last = pid
    for pid, group in groups.items():
        # the product's own row first, then its variations (an export may list them before it)
        group.sort(key=lambda r: bool(_cell(r, sheet.mapping, "parent")))
        sheet.products.append(_product(pid, group, sheet))
        sheet.lines.append(group[0].line)
    return sheet


def _listing_kinds(mapping: dict[str, str], rows: list[SheetRow]) -> None:
    """A 'Type' column of simple/variable/variation says what a row is, not what the product is."""
    for header, name in list(mapping.items()):
        values = {r.cells.get(header, "").lower() for r in rows} - {""}
        if name == "category" and values and values <= LISTING_KINDS:
            mapping[header] = "ignored"
    if isinstance(mapping, Columns):
        mapping.__dict__.pop("_by_field", None)


def _parent_keys(rows: list[SheetRow], mapping: dict[str, str]) -> dict[str, str]:
    """Where rows point to their product (a 'Parent' column): each product row's id and SKU -> its key.

    The key is the product's SKU, the seller's own code for it, else its id (a platform's row number).
    """
    if not any(_cell(r, mapping, "parent") for r in rows):
        return {}
    keys: dict[str, str] = {}
    for row in rows:
        if _cell(row, mapping, "parent"):
            continue
        own, sku = _cell(row, mapping, "id"), _cell(row, mapping, "sku")
        key = sku or own
        for name in (own, sku):
            if name:
                keys[name] = key
    return keys


def _reference(parent: str) -> str:
    return re.sub(r"^id\s*:\s*", "", parent.strip(), flags=re.IGNORECASE)


class Columns(dict[str, str]):
    """header -> field, with the headers of each field looked up once (a sheet has thousands of rows)."""

    def headers(self, name: str) -> tuple[str, ...]:
        found = self.__dict__.setdefault("_by_field", {})
        if name not in found:
            found[name] = tuple(h for h, f in self.items() if f == name)
        return found[name]


def _cell(row: SheetRow, mapping: dict[str, str], name: str) -> str:
    headers = (
        mapping.headers(name) if isinstance(mapping, Columns) else tuple(h for h, f in mapping.items() if f == name)
    )
    return next((v for h in headers if (v := row.cells.get(h, ""))), "")


def _options(row: SheetRow, mapping: dict[str, str]) -> dict[str, str]:
    names: dict[str, str] = {}
    values: dict[str, str] = {}
    for header, value in row.cells.items():
        m = OPTION.match(header.strip())
        if m and value:
            (names if m.group(2).lower() == "name" else values)[m.group(1)] = value
    options = {names.get(n, f"option {n}"): v for n, v in values.items() if v.lower() != "default title"}
    described = _cell(row, mapping, "variant")
    if described:
        pairs = PAIR.findall(described)
        options.update(
            {k.strip(): v.strip() for k, v in pairs} if pairs else {"规格" if _cjk(described) else "option": described}
        )
    return options


def _cjk(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def _product(pid: str, group: list[SheetRow], sheet: Sheet) -> dict[str, Any]:
    mapping = sheet.mapping
    first = group[0]
    product: dict[str, Any] = {"id": pid}
    for name in ("name", "category", "description"):
        value = next((_cell(r, mapping, name) for r in group if _cell(r, mapping, name)), "")
        if name == "description":  # a short description and a long one: both, once each
            value = next((_joined(r, mapping, name) for r in group if _cell(r, mapping, name)), "")
        langs = {lang: _cell(first, mapping, f"{name}_{lang}") for lang in ("zh", "en")}
        if any(langs.values()):
            product[name] = {k: v for k, v in langs.items() if v}
        elif value and name == "description":
            text, pairs = _body(value)
            if text:
                product["description"] = text
            if pairs:
                product["faq"] = [{"q": q, "a": a} for q, a in pairs]
        elif value:
            product[name] = value
    aliases = _cell(first, mapping, "aliases")
    if aliases:
        product["aliases"] = [a.strip() for a in re.split(r"[|;；]", aliases) if a.strip()]
    # a platform's handle is the seller's own short name ("magsafe-power-bank-10k" for "PocketCell 10K
    # Magnetic Power Bank"): said with spaces, another name viewers may use
    if re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+", pid):
        spoken = pid.replace("-", " ")
        name = product.get("name", "")
        if compact(spoken) not in {compact(str(n)) for n in (name.values() if isinstance(name, dict) else [name])}:
            product["aliases"] = [*product.get("aliases", []), spoken]
    # a product row with variation rows under it (a 'Parent' column) is not itself a variant
    rows = [r for r in group if _cell(r, mapping, "parent")] or group
    specs = _specs(group, mapping)
    variants = [_variant(r, mapping, i) for i, r in enumerate(rows)]
    variants = [v for v in variants if v.get("options") or v.get("sku")]
    prices = [_prices(r, mapping) for r in rows]
    if len(rows) > 1 or (variants and rows is not group):
        product["variants"] = variants
        numeric = [p for p, _ in prices if _number(p) is not None]
        product["price"] = min(numeric, key=lambda p: _number(p) or 0) if numeric else ""
        originals = [o for _, o in prices if o]
        if originals and len(set(originals)) == 1 and len(originals) == len(rows):
            product["original_price"] = originals[0]
            for v in variants:
                v.pop("original_price", None)
    else:
        product["price"], original = prices[0]
        if original:
            product["original_price"] = original
        if _stock(first, mapping):
            product["stock"] = _stock(first, mapping)
    for v in product.get("variants", []):
        v.pop("original_price", None)
    if specs.common:
        product["specs"] = specs.common
    for v, own in zip(product.get("variants", []), specs.per_row, strict=False):
        if own:
            v["specs"] = own
    return product


@dataclass
class _Specs:
    common: dict[str, Any]
    per_row: list[dict[str, Any]]


def _specs(group: list[SheetRow], mapping: dict[str, str]) -> _Specs:
    columns = [h for h in group[0].cells if mapping.get(h) == "spec"]
    common: dict[str, Any] = {}
    per_row: list[dict[str, Any]] = [{} for _ in group]
    for header in columns:
        key = SPEC_PREFIX.sub("", header).strip()
        lang = None
        if re.search(r":(zh|en)$", key):
            key, lang = key.rsplit(":", 1)
        values = [r.cells.get(header, "") for r in group]
        filled = [v for v in values if v]
        if not filled:
            continue
        if len(set(filled)) == 1:
            _put(common, key, filled[0], lang)
        else:  # differs between the variants: a spec of each variant
            for own, v in zip(per_row, values, strict=True):
                if v:
                    _put(own, key, v, lang)
    return _Specs(common, per_row)


def _put(specs: dict[str, Any], key: str, value: str, lang: str | None) -> None:
    if lang:
        current = specs.get(key)
        specs[key] = {**(current if isinstance(current, dict) else {}), lang: value}
    else:
        specs[key] = value


def _variant(row: SheetRow, mapping: dict[str, str], index: int) -> dict[str, Any]:
    variant: dict[str, Any] = {}
    sku = _cell(row, mapping, "sku")
    options = _options(row, mapping)
    variant["id"] = _variant_id(sku, index)
    if sku:
        variant["sku"] = sku
    if options:
        variant["options"] = options
    price, original = _prices(row, mapping)
    for name, value in (("price", price), ("stock", _stock(row, mapping)), ("original_price", original)):
        if value:
            variant[name] = value
    return variant


def _prices(row: SheetRow, mapping: dict[str, str]) -> tuple[str, str]:
    """(price, original price) of a row: while a sale price is set, it is the price."""
    price, original, sale = (_cell(row, mapping, f) for f in ("price", "original_price", "sale_price"))
    if sale:
        return sale, original or price
    return price, original


def _stock(row: SheetRow, mapping: dict[str, str]) -> str:
    """The count in stock; an out-of-stock flag (0, no, false, outofstock) where no count is given."""
    count = _cell(row, mapping, "stock")
    if count:
        return count
    flag = compact(_cell(row, mapping, "in_stock"))
    return "0" if flag in {"0", "no", "false", "outofstock", "无货", "缺货", "否"} else ""


def _joined(row: SheetRow, mapping: dict[str, str], name: str) -> str:
    values = [v for h in mapping.headers(name) if (v := row.cells.get(h, ""))] if isinstance(mapping, Columns) else []
    return "\n".join(dict.fromkeys(values)) or _cell(row, mapping, name)


def _variant_id(sku: str, index: int) -> str:
    if sku and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", sku):
        return sku
    return f"v{index + 1}"


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


QA = re.compile(r"(?:^|\s)(?:Q|问)\s*[:：]\s*(.+?)\s+(?:A|答)\s*[:：]\s*(.+?)(?=\s+(?:Q|问)\s*[:：]|$)", re.DOTALL)


def _body(html: str) -> tuple[str, list[tuple[str, str]]]:
    """A listing's HTML body as plain sentences (each bullet one), and the Q/A pairs written in it."""
    text = re.sub(r"(?i)</(li|p|h\d|div)>|<br\s*/?>", "\n", html)
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&quot;", '"').replace("&amp;", "&").replace("&nbsp;", " ").replace("&#39;", "'")
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.split("\n")]
    joined = " ".join(line if re.search(r"[.!?。！？]$", line) else line + "." for line in lines if line)
    pairs = [(q.strip(), a.strip()) for q, a in QA.findall(joined)]
    if pairs:
        joined = QA.sub(" ", joined).strip()
    return joined, pairs
