"""Reading catalog files (YAML, JSON, CSV) into plain data plus the line of every field.

Line numbers are what make a catalog error useful to a seller, so each reader returns a
`RawCatalog`: the parsed data and a map from field path (e.g. ("products", 2, "price")) to line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.sheets import HEADERS, SheetRow, read_rows

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
    notes: list[str] = field(default_factory=list)  # how the file was read, for `catalog check`
    locate: Callable[[RawCatalog], None] | None = None  # fills `lines` when first needed (a problem to report)

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest located parent."""
        if self.locate is not None:
            locate, self.locate = self.locate, None
            locate(self)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def read(path: Path) -> RawCatalog:
    """Parse a catalog file of any supported format; syntax errors raise CatalogError.

    Only a regular file is opened (never a device or a FIFO), and reading stops past the size limit
    whatever the file claimed to be when it was checked."""
    name = str(path)
    try:
        info = path.stat()
    except OSError:
        raise CatalogError([Problem(name, None, "", "file not found")]) from None
    if stat.S_ISDIR(info.st_mode):
        raise CatalogError([Problem(name, None, "", "is a directory, expected a .yaml, .json, .csv or .xlsx file")])
    if not stat.S_ISREG(info.st_mode):
        raise CatalogError([Problem(name, None, "", "is not a regular file")])
    if info.st_size > MAX_CATALOG_BYTES:
        raise CatalogError([Problem(name, None, "", f"file is larger than {MAX_CATALOG_BYTES // 2**20} MB")])
    data = _read_capped(path, name)
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(io.BytesIO(data), name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CatalogError([Problem(name, None, "", f"not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_yaml(text, name)
    if suffix == ".json":
        return read_json(text, name)
    if suffix == ".csv":
        return read_csv(text, name)
    raise CatalogError(
        [Problem(name, None, "", f"unsupported file type '{suffix}' (use .yaml, .yml, .json, .csv or .xlsx)")]
    )


def _read_capped(path: Path, name: str) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the check cannot block us
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise CatalogError([Problem(name, None, "", f"cannot be read ({e.strerror})")]) from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise CatalogError([Problem(name, None, "", "is not a regular file")])
        data = f.read(MAX_CATALOG_BYTES + 1)
    if len(data) > MAX_CATALOG_BYTES:
        raise CatalogError([Problem(name, None, "", f"file is larger than {MAX_CATALOG_BYTES // 2**20} MB")])
    return data


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
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        duplicated = duplicated or len({k for k, _ in items}) != len(items)
        return dict(items)

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        raise CatalogError([Problem(name, e.lineno, "", f"JSON syntax error: {e.msg} (column {e.colno})")]) from None
    except RecursionError:
        raise CatalogError([Problem(name, None, "", "JSON nested too deeply")]) from None

    def locate(raw: RawCatalog) -> None:
        try:  # JSON is (nearly always) YAML: its node tree gives line numbers (slow, so only when needed)
            loader = yaml.SafeLoader(text)
            node = loader.get_single_node()
            if node is not None:
                _collect_lines(node, (), raw)
            loader.dispose()
        except (yaml.YAMLError, RecursionError):
            pass  # lines are a convenience; the data itself parsed fine

    raw = RawCatalog(data=data, file=name, locate=locate)
    if duplicated:
        raw.line(())  # the node pass reports duplicate keys, with their lines
    return raw


def read_csv(text: str, name: str) -> RawCatalog:
    """A spreadsheet export: one row per product or per variant, columns mapped by meaning (knowledge.sheets)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise CatalogError([Problem(name, 1, "", "empty CSV: expected a header row with at least id, name and price")])
    header = [h.strip() for h in header]
    rows: list[SheetRow] = []
    raw = RawCatalog(data={"products": []}, file=name)
    for cells in reader:
        line = reader.line_num
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            raw.problems.append(Problem(name, line, "row", "more cells than columns in the header"))
        if any(c.strip() for c in cells):
            rows.append(SheetRow(line, {h: (c or "").strip() for h, c in zip(header, cells, strict=False) if h}))
    return _from_sheet(header, rows, raw)


def read_xlsx(path: Path | io.BytesIO, name: str) -> RawCatalog:
    """The first worksheet of an Excel workbook, read like a CSV export (row numbers are the sheet's)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise CatalogError([Problem(name, None, "", f"not a readable .xlsx workbook ({e})")]) from None
    sheet = book.worksheets[0]
    values = [[("" if c is None else _cell_text(c)) for c in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    if not values or not any(values[0]):
        raise CatalogError(
            [Problem(name, 1, "", "empty sheet: expected a header row with at least id, name and price")]
        )
    header = [h.strip() for h in values[0]]
    rows = [
        SheetRow(i, {h: c.strip() for h, c in zip(header, cells, strict=False) if h})
        for i, cells in enumerate(values[1:], start=2)
        if any(c.strip() for c in cells)
    ]
    return _from_sheet(header, rows, RawCatalog(data={"products": []}, file=name))


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _from_sheet(header: list[str], rows: list[SheetRow], raw: RawCatalog) -> RawCatalog:
    sheet = read_rows(header, rows)
    fields = set(sheet.mapping.values())
    for needed in ("id", "price"):
        if needed not in fields:
            names = ", ".join(HEADERS[needed][:4])
            raw.problems.append(Problem(raw.file, 1, "header", f"no column for the product {needed} (such as {names})"))
    if "name" not in fields and not {"name_zh", "name_en"} & fields:
        raw.problems.append(
            Problem(raw.file, 1, "header", "no column for the product name (such as name, title, 商品名称)")
        )
    raw.lines[()] = 1
    raw.lines[("products",)] = 1
    for line, fld, reason in sheet.problems:
        raw.problems.append(Problem(raw.file, line, fld, reason))
    for i, (product, line) in enumerate(zip(sheet.products, sheet.lines, strict=True)):
        path: Path_ = ("products", i)
        raw.data["products"].append(product)
        raw.lines[path] = line
    read_as = ", ".join(f"{h} -> {f}" for h, f in sheet.mapping.items())
    raw.notes.append(f"columns: {read_as}")
    return raw
