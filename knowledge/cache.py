"""Where livehost keeps what it computes or assembles once: models, vectors, live facts, reports."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """Cache root: ``cache_dir``, else ``$LIVEHOST_CACHE``, else ``~/.cache/livehost``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("LIVEHOST_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "livehost"


def write_json(path: Path, data: Any) -> None:
    """`data` as JSON in `path`, whole or not at all (written beside it, then renamed); OSError when it cannot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
