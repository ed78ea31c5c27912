"""Where livehost keeps what it computes or assembles once: models, vectors, live facts, reports."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """Cache root: ``cache_dir``, else ``$LIVEHOST_CACHE``, else ``~/.cache/livehost``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("LIVEHOST_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "livehost"
