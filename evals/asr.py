"""The ASR benchmark: word error rate and recognition time on real recorded speech.

Data: the Debian Asterisk prompts (`make testdata`), one speaker, 8 kHz telephone audio, with
transcripts; the full sentences among them (ending with a period, five words or more).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from agent.audio import read_wav
from agent.engines import Recognizer
from evals.stats import percentiles
from evals.wer import error_rate

ASTERISK = Path(__file__).resolve().parent.parent / ".cache/testdata/asterisk"


def asterisk_sentences(root: Path = ASTERISK) -> list[tuple[Path, str]]:
    sounds = root / "usr/share/asterisk/sounds/en_US_f_Allison"
    transcripts = root / "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
    if not transcripts.exists():
        raise FileNotFoundError(f"{transcripts} is missing: run `make testdata`")
    out = []
    with gzip.open(transcripts, "rt", encoding="utf-8") as lines:
        for line in lines:
            name, _, text = line.partition(":")
            path = sounds / f"{name.strip()}.wav"
            if text.strip().endswith(".") and len(text.split()) >= 5 and "/" not in name and path.exists():
                out.append((path, text.strip()))
    return out


def run(recognizer: Recognizer, items: list[tuple[Path, str]]) -> dict[str, Any]:
    pairs, elapsed, wrong_language = [], [], 0
    for path, reference in items:
        transcript = recognizer.transcribe(read_wav(path))
        pairs.append((reference, transcript.text))
        elapsed.append(transcript.elapsed_ms)
        wrong_language += transcript.language != "en"
    return {
        "utterances": len(items),
        "wer": round(error_rate(pairs), 4),
        "wrong_language": wrong_language,
        "elapsed_ms": percentiles(elapsed),
    }
