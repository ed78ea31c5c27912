"""Is the viewer's turn complete? The audio end-of-turn model smart-turn v3.2, as Pipecat runs it.

smart-turn v3.2 (`smart-turn-v3.2-cpu.onnx`, 8.7 MB, BSD-2, by Daily) is a Whisper-tiny encoder with
a classifier head, trained on 23 languages including Chinese. It hears intonation and unfinished
phrases, so a turn can end after a short pause when the sentence is complete and wait when it is not.
The model ships only inside the `pipecat-ai` 1.14.0 wheel; `resolve_smart_turn` extracts that one
file into the livehost cache instead of installing Pipecat.

The input is prepared exactly as Pipecat 1.14.0 does (`LocalSmartTurnAnalyzerV3._predict_endpoint`
and its vendored `_whisper_features.compute_whisper_log_mel_features`):

1. 16 kHz mono float32; the last 8 s are kept, shorter audio is zero-padded at the *start* to
   exactly 128,000 samples;
2. the whole 8 s buffer, padding included, is normalized to zero mean and unit variance
   (variance epsilon 1e-7, in float32);
3. Whisper log-mel features: 400-point FFT, hop 160, periodic Hann window, centred reflect padding,
   power spectrum in float64, 80 Slaney mel filters over 0-8 kHz, log10 with a 1e-10 floor, the last
   frame dropped (800 frames), clamped to 8 below the maximum, then (x + 4) / 4;
4. input `input_features` (1, 80, 800) float32; output `logits` (1, 1) is already a sigmoid
   probability of "complete"; Pipecat calls the turn complete above 0.5.

Pipecat asks the model once its VAD has heard 0.2 s of silence, with the turn's audio from 0.5 s
before the speech started; callers should do the same. The model is no speech detector: noise or
silence alone score about 0.99 ("complete"), so ask it only about a turn in which the VAD heard speech.

Cost per call on the shared 2-core CPU (rough): about 57 ms with one thread, 40 ms with two; the
features are about 5 ms of that.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from agent.audio import RATE
from agent.llm.weights import cache_root, chmod_default, file_lock

PIPECAT = "pipecat-ai==1.14.0"
WHEEL_MEMBER = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
MODEL_NAME = "smart-turn-v3.2-cpu.onnx"
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
THRESHOLD = 0.5  # Pipecat's decision threshold on the probability

SECONDS = 8
N_FFT = 400
HOP = 160
N_MELS = 80


class TurnModelError(Exception):
    """The smart-turn model cannot be found or extracted, in one sentence."""


def resolve_smart_turn(source: str | None = None, cache_dir: Path | None = None) -> Path:
    """The smart-turn v3.2 ONNX file: `source` if it is a local .onnx file, else the livehost cache.

    The cache is filled once, from `source` when it is a Pipecat wheel, otherwise from
    `pip download pipecat-ai==1.14.0 --no-deps` (12 MB, nothing installed).
    """
    path = Path(source).expanduser() if source else None
    if path is not None and path.suffix != ".whl":
        if not path.is_file():
            raise TurnModelError(f"smart-turn model file {path} does not exist")
        return path
    if path is not None and not path.is_file():
        raise TurnModelError(f"Pipecat wheel {path} does not exist")
    dest = cache_root(cache_dir) / "smart-turn-v3.2" / MODEL_NAME
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(dest.parent / f".{MODEL_NAME}.lock"):
        if dest.is_file():  # another process extracted it while we waited
            return dest
        for stale in dest.parent.glob(f".{MODEL_NAME}.*.tmp"):  # left by a killed extraction
            with contextlib.suppress(OSError):
                stale.unlink()
        if path is not None:
            _extract(path, dest)
        else:
            with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".pipecat-wheel.") as tmp:
                _extract(_download_wheel(Path(tmp)), dest)
    return dest


def _download_wheel(folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", PIPECAT, "--no-deps", "--only-binary=:all:"]
    command += ["--dest", str(folder), "--quiet", "--disable-pip-version-check"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TurnModelError(f"could not run pip to download {PIPECAT} for the smart-turn model ({e})") from None
    wheels = sorted(folder.glob("pipecat_ai-*.whl"))
    if done.returncode != 0 or not wheels:
        said = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TurnModelError(
            f"downloading {PIPECAT} for the smart-turn model failed (pip: {said}); "
            "pass a local smart-turn-v3.2-cpu.onnx or Pipecat wheel instead"
        )
    return wheels[0]


def _extract(wheel: Path, dest: Path) -> None:
    """Copy the model out of the wheel next to `dest`, check it, and rename it into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{MODEL_NAME}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(WHEEL_MEMBER) as member:
                    while chunk := member.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
            except (zipfile.BadZipFile, KeyError):
                raise TurnModelError(f"{wheel} is not a Pipecat wheel containing {WHEEL_MEMBER}") from None
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != MODEL_SHA256:
            raise TurnModelError(f"{WHEEL_MEMBER} in {wheel} is not the smart-turn v3.2 model of {PIPECAT}")
        chmod_default(tmp, 0o666)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@functools.cache
def _mel_filters() -> np.ndarray:
    from faster_whisper.feature_extractor import FeatureExtractor  # the same Slaney filterbank as Whisper's

    return np.asarray(FeatureExtractor.get_mel_filters(RATE, N_FFT, N_MELS), dtype=np.float64)


_HANN = np.hanning(N_FFT + 1)[:-1]  # periodic, as torch.hann_window


def model_input(audio: np.ndarray) -> np.ndarray:
    """The turn's audio (16 kHz mono float32) as the model's (1, 80, 800) log-mel input."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)[-SECONDS * RATE :]
    x = np.pad(x, (SECONDS * RATE - len(x), 0))
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _HANN, axis=-1)) ** 2
    log_mel = np.log10(np.maximum(power[:-1] @ _mel_filters().T, 1e-10)).T
    log_mel = np.maximum(log_mel, log_mel.max() - 8.0)
    return ((log_mel + 4.0) / 4.0).astype(np.float32)[np.newaxis]


class TurnCompletion:
    """Probability that the viewer has finished the turn, from the sound of it."""

    def __init__(self, model: str | None = None, *, device: str = "cpu", threads: int = 1) -> None:
        import onnxruntime as ort

        path = resolve_smart_turn(model)
        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # spinning worker threads would steal the cores that ASR, LLM and TTS share
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise TurnModelError("device cuda needs onnxruntime-gpu, but this onnxruntime has no CUDA provider")
            providers.insert(0, "CUDAExecutionProvider")
        self.session: Any = ort.InferenceSession(str(path), sess_options=options, providers=providers)

    def probability(self, audio: np.ndarray) -> float:
        """P(turn complete) given the turn's audio so far (16 kHz mono float32, up to now)."""
        (scores,) = self.session.run(["logits"], {"input_features": model_input(audio)})
        return float(scores[0][0])
