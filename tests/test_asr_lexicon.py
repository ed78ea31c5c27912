"""Lexicon: catalog terms put back into Chinese transcripts by sound (no models)."""

from __future__ import annotations

import itertools
import time

import pytest

from agent.asr.lexicon import Lexicon

CATALOG = ["充电宝", "体脂秤", "手表", "存储", "功率", "音箱", "手环", "智能手环X2"]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon(CATALOG)


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("2万毫安充电保最大输出多少瓦", "2万毫安充电宝最大输出多少瓦"),
        ("体支称是充电款的吗?", "体脂秤是充电款的吗?"),
        ("首表存处空间多大", "手表存储空间多大"),
        ("守皇续航多久", "手环续航多久"),  # huang ~ huan
        ("因香的公律多大", "音箱的功率多大"),
        ("体子称准不准", "体脂秤准不准"),  # zhi ~ zi
        ("搜表防水吗", "手表防水吗"),  # shou ~ sou
        ("重电宝能带上飞机吗", "充电宝能带上飞机吗"),  # 重 read chong, not zhong as in context
    ],
)
def test_homophones_are_corrected(lexicon: Lexicon, heard: str, meant: str) -> None:
    assert lexicon.correct(heard) == meant


def test_l_and_n_are_merged() -> None:
    assert Lexicon(["暖风机"]).correct("卵风机多少瓦") == "暖风机多少瓦"


def test_common_two_character_words_are_left_alone(lexicon: Lexicon) -> None:
    assert lexicon.correct("我对它的印象很好") == "我对它的印象很好"  # 印象 sounds like 音箱
    assert lexicon.correct("这个音响怎么样") == "这个音响怎么样"


def test_two_character_windows_are_read_in_context(lexicon: Lexicon) -> None:
    # 还 can be read huan, but here it is hai
    assert lexicon.correct("我手还疼") == "我手还疼"


def test_terms_that_do_not_sound_alike_are_not_substituted(lexicon: Lexicon) -> None:
    assert lexicon.correct("跑了三公里") == "跑了三公里"  # gong li, not gong lv


def test_correct_transcript_is_unchanged(lexicon: Lexicon) -> None:
    text = "这款智能手环X2的续航多久?充电宝支持快充吗"
    assert lexicon.correct(text) == text


def test_latin_digits_and_punctuation_pass_through(lexicon: Lexicon) -> None:
    assert lexicon.correct("SmartBand X2 battery") == "SmartBand X2 battery"
    assert lexicon.correct("SmartBand X2, 守皇!") == "SmartBand X2, 手环!"
    assert lexicon.correct("") == ""


def test_longer_term_wins_over_overlapping_shorter_one(lexicon: Lexicon) -> None:
    # 守皇 alone would become 手环; the whole span sounds like 智能手环
    assert lexicon.correct("只能守皇X2多少钱") == "智能手环X2多少钱"


def test_a_term_already_in_the_transcript_is_protected() -> None:
    # 充电宝 is right as written: the shorter 电报 (dian bao) must not rewrite inside it
    assert Lexicon(["充电宝", "电报"]).correct("充电宝多少钱") == "充电宝多少钱"


def test_terms_indexed() -> None:
    lexicon = Lexicon(["智能手环X2", "Pro Max", "表", "Air 音箱 2", "手环"])
    assert lexicon.terms == frozenset({"智能手环", "音箱", "手环"})
    assert lexicon.correct("表") == "表"
    assert Lexicon(["Pro Max", "表"]).correct("首表") == "首表"


def test_fast_with_a_few_hundred_terms() -> None:
    pool = "充电宝体脂秤手表存储功率音箱环智能耳机蓝牙降噪续航防水屏幕镜头"
    terms = ["".join(chars) for n in (2, 3, 4) for chars in itertools.islice(itertools.permutations(pool, n), 100)]
    lexicon = Lexicon([*terms, *CATALOG])
    text = "这个守皇续航多久,首表存处空间多大,充电保最大输出多少瓦啊呀"
    assert len(text) == 30
    lexicon.correct(text)
    start = time.perf_counter()
    for _ in range(100):
        lexicon.correct(text)
    per_call = (time.perf_counter() - start) / 100
    assert per_call < 0.005


def test_a_two_character_window_that_cuts_a_common_word_is_left_alone() -> None:
    lexicon = Lexicon(["体脂", "体脂秤"])
    assert lexicon.correct("手表记体支持eSIM吗") == "手表记体支持eSIM吗"  # 支持 is a word: not 体脂|持
    assert lexicon.correct("体支称准吗") == "体脂秤准吗"
