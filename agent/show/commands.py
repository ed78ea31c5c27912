"""`livehost show plan` and `livehost show check`, and the `--show` option of `serve` and `join`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.app.build import UserError
from agent.show.rundown import LANGUAGES, ShowError, load_rundown, plan_rundown, to_yaml
from agent.show.runner import GREET_EVERY_S, Show
from agent.show.state import ShowState, show_state_file
from knowledge.loader import SAMPLE_CATALOG, load_catalog


def add_show_parsers(sub: Any) -> None:
    show = sub.add_parser("show", help="the show: a rundown the host presents while nobody asks")
    actions = show.add_subparsers(metavar="ACTION")
    plan = actions.add_parser("plan", help="write a rundown made from the catalog (edit it, then serve --show FILE)")
    plan.add_argument("--catalog", type=Path, default=SAMPLE_CATALOG)
    plan.add_argument("--languages", default="zh,en", help="segment languages, in order (default: zh,en)")
    plan.add_argument(
        "--no-lines", action="store_true", help="segments only: their lines are written afresh on every loop"
    )
    plan.set_defaults(run=cmd_show_plan)
    check = actions.add_parser("check", help="check a show file against the catalog (lines against its facts)")
    check.add_argument("file", type=Path)
    check.add_argument("--catalog", type=Path, default=SAMPLE_CATALOG)
    check.set_defaults(run=cmd_show_check)


def show_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--show",
        metavar="FILE|auto",
        help="host a show while nobody asks: a show file (livehost show plan), or auto (every product, zh then en)",
    )
    p.add_argument(
        "--greet-every", type=float, default=GREET_EVERY_S, metavar="SECONDS",
        help=f"during the show, welcome viewers who joined by name at most this often (default {GREET_EVERY_S:.0f}; "
        "0: never)",
    )  # fmt: skip
    p.add_argument(
        "--show-state", type=Path, metavar="FILE",
        help="where the show keeps its place and order, so a restart goes on where it was "
        "(default: a file per catalog and show in ~/.cache/livehost/show)",
    )  # fmt: skip


def show_for(
    value: str | None, host: Any, greet_every_s: float = GREET_EVERY_S, state_file: Path | None = None
) -> Show | None:
    """The show `--show` names for this host's catalog, at the place `state_file` kept (default: in the cache);
    a bad show file is one UserError."""
    if not value:
        return None
    if greet_every_s < 0:
        raise UserError("--greet-every takes seconds, 0 or more (0: never welcome viewers by name)")
    catalog = host.catalog.current.catalog
    try:
        rundown = plan_rundown(catalog) if value == "auto" else load_rundown(Path(value), catalog)
    except ShowError as e:
        raise UserError(f"the show cannot run: {e}") from None
    state = ShowState(state_file or show_state_file(Path(host.catalog.path), value), rundown)
    return Show(rundown, lambda: host.catalog.current.catalog, live=host.live, greet_every_s=greet_every_s, state=state)


def cmd_show_plan(args: argparse.Namespace) -> int:
    languages = tuple(lang.strip() for lang in args.languages.split(",") if lang.strip())
    if not languages or any(lang not in LANGUAGES for lang in languages):
        raise UserError(f"--languages takes zh and/or en, comma-separated, not '{args.languages}'")
    catalog = load_catalog(args.catalog)
    print(to_yaml(plan_rundown(catalog, languages), catalog, with_lines=not args.no_lines), end="")
    return 0


def cmd_show_check(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.catalog)
    try:
        rundown = load_rundown(args.file, catalog)
    except ShowError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    products = len({s.product_id for s in rundown.segments})
    written = sum(1 for s in rundown.segments if s.lines)
    print(f"ok: {len(rundown.segments)} segments over {products} products ({written} with lines of their own)")
    return 0
