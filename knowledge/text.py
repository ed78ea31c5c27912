"""Text handling shared by retrieval and answering: language, normalization, tokens, numbers.

Chinese is segmented with jieba; traditional characters (which Whisper often emits) are mapped
to simplified before anything is matched.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Any

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
# a number may touch Chinese characters ("续航30天") but not Latin ones: "X2" is a name, not the number 2
NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:[.,]\d+)*(?![0-9])")
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
NOT_WORD = re.compile(r"[\s\W_]+", re.UNICODE)

EN_STOPWORDS = frozenset(
    """a an the is are was were be been do does did doing have has had can could will would shall
    should may might must of to in on at for with by from about as into than then this that these
    those it its it's i me my we our you your he she they them their what which who whom how when
    where why there here and or but if so not no yes please tell know want does any some much many
    just also get got one ones thing stuff there's what's hi hello hey ok okay""".split()
)
ZH_STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 嘛 哦 是 有 么 什么 怎么 怎样 多少 几 这 那 这个 那个 这款 那款 个 款 一下
    请问 请 我 你 您 我们 他 她 它 就 都 也 还 和 与 跟 在 会 能 可以 不 没 没有 想 要 问 问问 一 下 给
    主播 老师 亲 啥 么 哪 哪个 多 大 吧""".split()
)


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def add_words(words: list[str]) -> None:
    """Teach the Chinese segmenter the catalog's names and terms so they stay whole."""
    jb = _jieba()
    for word in words:
        if CJK.search(word):
            jb.add_word(normalize(word).replace(" ", ""), freq=20000)


def to_simplified(text: str) -> str:
    # each run of hanzi converted once: catalogs and questions repeat the same words
    return CJK_RUN.sub(lambda m: _run_to_simplified(m.group(0)), text) if CJK.search(text) else text


@lru_cache(maxsize=65536)
def _run_to_simplified(run: str) -> str:
    return str(_t2s().convert(run))


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """NFKC (full-width to half-width), simplified Chinese, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text).lower()
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def compact(text: str) -> str:
    """Normalized with spaces and punctuation removed: for matching names inside a question."""
    return NOT_WORD.sub("", normalize(text))


def detect_language(text: str) -> str:
    """'zh' when the text is mostly Chinese, else 'en'."""
    cjk = len(CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if cjk and cjk >= latin else "en"


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A word without its English inflection ("washing" -> "wash", "batteries" -> "battery")."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("es", ""), ("s", ""), ("ed", "")):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + keep
    return word


def tokens(text: str, drop_stopwords: bool = True) -> list[str]:
    """Search tokens: jieba words (search mode) for Chinese, stemmed words for Latin script."""
    text = normalize(text)
    out: list[str] = []
    for word in LATIN_WORD.findall(text):
        if drop_stopwords and word in EN_STOPWORDS:
            continue
        out.append(stem(word))
    for run in CJK_RUN.findall(text):
        for word in _jieba().lcut_for_search(run):
            if drop_stopwords and word in ZH_STOPWORDS:
                continue
            out.append(word)
    return out


def numbers(text: str) -> list[str]:
    """The numbers in a text, normalized (1,299 -> 1299; 5.0 kept as 5.0)."""
    return [n.replace(",", "") for n in NUMBER.findall(unicodedata.normalize("NFKC", text))]
