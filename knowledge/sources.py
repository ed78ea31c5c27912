"""Reading catalog files (YAML, JSON, CSV) into plain data plus the line of every field.

Line numbers are what make a catalog error useful to a seller, so each reader returns a
`RawCatalog`: the parsed data and a map from field path (e.g. ("products", 2, "price")) to line.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

MAX_CATALOG_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog, located as precisely as the format allows."""

    file: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class CatalogError(Exception):
    """A catalog that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class RawCatalog:
    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest located parent."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def read(path: Path) -> RawCatalog:
    """Parse a catalog file of any supported format; syntax errors raise CatalogError."""
    name = str(path)
    if not path.exists():
        raise CatalogError([Problem(name, None, "", "file not found")])
    if path.is_dir():
        raise CatalogError([Problem(name, None, "", "is a directory, expected a .yaml, .json or .csv file")])
    if path.stat().st_size > MAX_CATALOG_BYTES:
        raise CatalogError([Problem(name, None, "", f"file is larger than {MAX_CATALOG_BYTES // 2**20} MB")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise CatalogError([Problem(name, None, "", f"not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_yaml(text, name)
    if suffix == ".json":
        return read_json(text, name)
    if suffix == ".csv":
        return read_csv(text, name)
    raise CatalogError([Problem(name, None, "", f"unsupported file type '{suffix}' (use .yaml, .yml, .json or .csv)")])


def read_yaml(text: str, name: str) -> RawCatalog:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise CatalogError([Problem(name, line, "", f"YAML syntax error: {e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise CatalogError([Problem(name, None, "", f"YAML error: {e}")]) from None
    finally:
        loader.dispose()
    raw = RawCatalog(data=data, file=name)
    if node is not None:
        _collect_lines(node, (), raw)
    return raw


def _collect_lines(node: yaml.Node, path: Path_, raw: RawCatalog) -> None:
    raw.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                where = ".".join(str(p) for p in (*path, key))
                raw.problems.append(Problem(raw.file, line, where, f"duplicate key (first on line {seen[key]})"))
            seen[key] = line
            raw.lines[(*path, key)] = line
            _collect_lines(value_node, (*path, key), raw)
            raw.lines[(*path, key)] = line  # the key's line, not the value's, for nested blocks
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _collect_lines(item, (*path, i), raw)


def read_json(text: str, name: str) -> RawCatalog:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CatalogError([Problem(name, e.lineno, "", f"JSON syntax error: {e.msg} (column {e.colno})")]) from None
    raw = RawCatalog(data=data, file=name)
    try:  # JSON is (nearly always) YAML: reuse the YAML node tree for line numbers
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is not None:
            _collect_lines(node, (), raw)
        loader.dispose()
    except yaml.YAMLError:
        pass  # lines are a convenience; the data itself parsed fine
    return raw


CSV_LIST_SEPARATORS = ("|", ";")


def read_csv(text: str, name: str) -> RawCatalog:
    """A flat product list: one product per row, see docs/catalog.md for the columns."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise CatalogError([Problem(name, 1, "", "empty CSV: expected a header row with at least id, name and price")])
    raw = RawCatalog(data={"products": []}, file=name)
    raw.lines[()] = 1
    raw.lines[("products",)] = 1
    header = [h.strip() for h in reader.fieldnames]
    reader.fieldnames = header
    if "id" not in header:
        raw.problems.append(Problem(name, 1, "header", "missing the 'id' column"))
    start = 2
    for row in reader:
        end = reader.line_num
        product = _csv_product(row, name, end, raw)
        if product:
            path: Path_ = ("products", len(raw.data["products"]))
            raw.data["products"].append(product)
            raw.lines[path] = start
            for key in product:
                raw.lines[(*path, key)] = start
                if isinstance(product[key], dict):
                    for sub in product[key]:
                        raw.lines[(*path, key, sub)] = start
        start = end + 1
    return raw


def _csv_product(row: dict[str | None, Any], name: str, line: int, raw: RawCatalog) -> dict[str, Any] | None:
    if None in row:  # more cells than header columns
        raw.problems.append(Problem(name, line, "row", "more cells than columns in the header"))
    cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
    if not any(cells.values()):
        return None
    product: dict[str, Any] = {}
    bilingual: dict[str, dict[str, str]] = {}
    specs: dict[str, Any] = {}
    for column, value in cells.items():
        if not value:
            continue
        if column.startswith(("spec:", "spec.")):
            parts = column[5:].split(":")
            key = parts[0].strip()
            if len(parts) == 2:
                specs.setdefault(key, {})
                if isinstance(specs[key], dict):
                    specs[key][parts[1].strip()] = value
            else:
                specs[key] = _csv_scalar(value)
        elif column in ("aliases",):
            product["aliases"] = [a.strip() for a in _split_list(value) if a.strip()]
        elif (
            "_" in column
            and column.rsplit("_", 1)[1] in ("zh", "en")
            and column.rsplit("_", 1)[0]
            in (
                "name",
                "category",
                "description",
            )
        ):
            field_name, lang = column.rsplit("_", 1)
            bilingual.setdefault(field_name, {})[lang] = value
        else:
            product[column] = value
    product.update(bilingual)
    if specs:
        product["specs"] = specs
    return product


def _split_list(value: str) -> list[str]:
    for sep in CSV_LIST_SEPARATORS:
        if sep in value:
            return value.split(sep)
    return [value]


def _csv_scalar(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return value
