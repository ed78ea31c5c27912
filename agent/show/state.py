"""Where the show is, kept in a file: a restarted process goes on with the same segment, in the order the host set.

The file holds the order of the rundown's segments (the host may have changed it) and the position
(loop, segment, line). It belongs to one rundown: a fingerprint of the segments as loaded is stored
with it, and a file written for another rundown (the show file was edited, the catalog changed) is
set aside with a warning, so the show starts from the top. It is written atomically after every
line, a few hundred bytes every few seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from agent.show.rundown import Rundown
from knowledge.cache import cache_root, write_json

log = logging.getLogger("livehost.show")


@dataclass
class Position:
    loop: int = 0  # how many times the whole rundown has been presented
    segment: int = 0  # in the show's current order
    line: int = 0


def show_state_file(catalog: Path, show: str) -> Path:
    """Where a show's place is kept by default: one file per catalog and show file, in the cache."""
    where = show if show == "auto" else str(Path(show).resolve())
    key = hashlib.sha256(f"{catalog.resolve()}\n{where}".encode()).hexdigest()[:16]
    return cache_root() / "show" / f"{catalog.stem}-{key}.json"


def fingerprint(rundown: Rundown) -> str:
    text = json.dumps([[s.product_id, s.language, list(s.lines)] for s in rundown.segments], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ShowState:
    """The show's order and position in `path`, for this rundown."""

    def __init__(self, path: Path, rundown: Rundown):
        self.path = path
        self.key = fingerprint(rundown)
        self.size = len(rundown.segments)

    def load(self) -> tuple[list[int], Position] | None:
        """The saved order and position, or None (no file, another rundown's, or unreadable: said in the log)."""
        if not self.path.is_file():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("rundown") != self.key:
                log.warning("%s was written for another rundown: the show starts from the top", self.path)
                return None
            order = [int(i) for i in data["order"]]
            where = data["position"]
            position = Position(int(where["loop"]), int(where["segment"]), int(where["line"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("the show's place in %s cannot be read (%s): the show starts from the top", self.path, e)
            return None
        if sorted(order) != list(range(self.size)) or not 0 <= position.segment < self.size:
            log.warning("%s does not fit this rundown: the show starts from the top", self.path)
            return None
        return order, Position(max(0, position.loop), position.segment, max(0, position.line))

    def save(self, order: list[int], position: Position) -> None:
        record = {
            "rundown": self.key,
            "order": order,
            "position": {"loop": position.loop, "segment": position.segment, "line": position.line},
        }
        try:
            write_json(self.path, record)
        except OSError as e:  # a full disk costs the resume after a restart, never the show
            log.warning("the show's place could not be written to %s: %s", self.path, e)
