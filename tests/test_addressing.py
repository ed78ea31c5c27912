"""Only what is said to the agent by name is a question for it."""

from __future__ import annotations

import pytest

from agent.session.addressing import addressed_to


@pytest.mark.parametrize(
    ("said", "question"),
    [
        ("Lumi, how long does the battery last?", "how long does the battery last?"),
        ("Hey Lumi, what does it cost?", "what does it cost?"),
        ("Lumie, is it waterproof?", "is it waterproof?"),  # one of Whisper's spellings of an unknown name
        ("Lemmy, how many days does it last?", "how many days does it last?"),  # heard in the room test
        ("Lumi，这款手环防水吗?", "这款手环防水吗?"),
        ("Lucy, can you hear me?", None),  # another name
        ("Welcome everyone to today's stream!", None),
        ("Today Lumi will help me answer questions.", None),  # about the agent, not to it
        ("Lumi", None),  # the name alone asks nothing
        ("", None),
    ],
)
def test_a_question_is_put_to_the_agent_by_its_name(said: str, question: str | None) -> None:
    assert addressed_to("Lumi")(said) == question


def test_a_chinese_name_opens_the_question() -> None:
    check = addressed_to("小美")
    assert check("小美，这款多少钱?") == "这款多少钱?"
    assert check("小美这款多少钱") == "这款多少钱"
    assert check("大家好，今天给大家介绍") is None


def test_a_question_after_other_talk_in_the_same_turn_is_found() -> None:
    ask = addressed_to("Lumi")
    merged = "Welcome everyone to today's stream. Lumi, how many days does the X2 battery last?"
    assert ask(merged) == "how many days does the X2 battery last?"
    assert ask("Welcome everyone. Thanks for coming, the X2 is on sale.") is None
