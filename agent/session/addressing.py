"""Is this said to the agent? The host talks to the audience all stream long; only a sentence that
begins with the agent's name ("Lumi, ...", "Hey Lumi, ...", "Lumi，...") is a question for it.

Whisper spells a name it does not know in several ways ("Lumi", "Lumie", "Lemmy"), so the first
word matches the name within a small edit distance, or by its consonants ("lm" for all three).
"""

from __future__ import annotations

import re
from collections.abc import Callable

GREETINGS = {"hey", "hi", "hello", "ok", "okay", "so", "嗨", "哎", "喂"}
_WORD = re.compile(r"[A-Za-z]+|[\u4e00-\u9fff]+")
_SENTENCE_END = re.compile(r"[.!?。！？]+\s*")


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _consonants(word: str) -> str:
    """The first letter and the consonants after it, repeats collapsed: lumi, lemmy, loomi -> lm."""
    skeleton = word[:1] + re.sub(r"[aeiouy]", "", word[1:])
    return re.sub(r"(.)\1+", r"\1", skeleton)


def addressed_to(name: str) -> Callable[[str], str | None]:
    """A check for transcripts: the question put to `name`, or None when it is not addressed to it."""
    wanted = name.strip().lower()
    allowed = 1 + len(wanted) // 5 if wanted.isascii() and len(wanted) >= 4 else 0

    def question(text: str) -> str | None:
        # any sentence may open with the name: two utterances heard as one turn ("Welcome, everyone.
        # Lumi, how long ...?") carry the question in the second
        for start in [0, *(m.end() for m in _SENTENCE_END.finditer(text))]:
            found = opening(text[start:])
            if found:
                return found
        return None

    def opening(text: str) -> str | None:
        words = list(_WORD.finditer(text))
        if words and words[0].group().lower() in GREETINGS:
            words = words[1:]
        if not words or not wanted:
            return None
        word, spoken = words[0], words[0].group().lower()
        if spoken.isascii():
            sounds_like = allowed and _consonants(spoken) == _consonants(wanted)
            if spoken != wanted and _distance(spoken, wanted) > allowed and not sounds_like:
                return None
            end = word.end()
        elif spoken.startswith(wanted):  # a Chinese name opens a run of hanzi: 小美你好 -> 你好
            end = word.start() + len(wanted)
        else:
            return None
        return text[end:].lstrip(" ,，、.。:：!！?？") or None

    return question
