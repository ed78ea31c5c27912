"""The code's layout: no module imports another that (directly or through others) imports it back.

Imports under `if TYPE_CHECKING:` are for annotations only and never run, so they are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "knowledge", "evals")


def imports() -> dict[str, set[str]]:
    """Module -> the project's modules it imports, at the top or inside functions."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.with_suffix("").relative_to(ROOT).parts).removesuffix(".__init__")
            names: set[str] = set()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for block in ast.walk(tree):
                if isinstance(block, ast.If) and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                    block.body = []
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
                elif isinstance(node, ast.Import):
                    names |= {a.name for a in node.names}
            found[name] = names
    return {m: {d for d in names if d in found and d != m} for m, names in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in sorted(graph[module]):
            if state.get(other) == 1:
                found.append([*path[path.index(other) :], module, other] if other in path else [module, other])
            elif other not in state:
                visit(other, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return found


def test_there_are_no_import_circles() -> None:
    graph = imports()
    assert "agent.app.cli" in graph and "evals.scenario" in graph
    assert cycles(graph) == []


def test_the_package_that_runs_never_imports_the_package_that_measures_it() -> None:
    graph = imports()
    assert "agent.app.cli" in graph
    leaks = {m: sorted(d for d in deps if d.startswith("evals")) for m, deps in graph.items() if m.startswith("agent")}
    assert {m: d for m, d in leaks.items() if d} == {}


def test_the_measuring_commands_reach_the_cli_through_entry_points() -> None:
    from agent.app.cli import _parser

    help_text = _parser().format_help()
    assert "bench-room" in help_text and "eval" in help_text


def test_a_circle_would_be_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]
