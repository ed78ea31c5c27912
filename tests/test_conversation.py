"""The turn loop with small fakes for the models: turns end, answers play, barge-in cuts, coughs don't.

The answer engine is the real one on the sample catalog; the VAD, ASR and voice are fakes so the
timing is exact: "speech" is a loud tone, a clause lasts 50 ms per character.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import pytest

from agent.answer.engine import AnswerEngine
from agent.audio import RATE, voiced_span
from agent.engines import Cancelled, Transcript
from agent.session.conversation import Conversation, Stages
from agent.transports.replay import Recording, replay
from agent.turns.options import TurnOptions

QUESTION = "How long does the Band X2 battery last?"
LONG_QUESTION = "What is the price of the RoboVac S7 and does it have a mop?"


class LoudnessVAD:
    window_ms = 32.0

    def __init__(self) -> None:
        self.rest = np.zeros(0, dtype=np.float32)

    def feed(self, samples: np.ndarray) -> list[float]:
        self.rest = np.concatenate([self.rest, samples])
        n = len(self.rest) // 512
        windows, self.rest = self.rest[: n * 512].reshape(n, 512), self.rest[n * 512 :]
        return [1.0 if np.sqrt(np.mean(w**2)) > 0.02 else 0.0 for w in windows]

    def reset(self) -> None:
        self.rest = np.zeros(0, dtype=np.float32)


class ScriptedEars:
    """Final transcripts handed out in order (or, with `by_length`, chosen by the audio's length)."""

    def __init__(self, *texts: str, seconds: float = 0.0, by_length: Callable[[float], str] | None = None):
        self.texts = list(texts)
        self.by_length = by_length
        self.heard: list[float] = []
        self.seconds = seconds  # how long a final transcript takes
        self.stopped = 0  # transcriptions given up because their turn was cancelled

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        partial: bool = False,
        cancel: threading.Event | None = None,
    ) -> Transcript:
        if partial:
            return Transcript(f"draft of {len(audio) / RATE:.1f} s", "en", 1.0, len(audio) / RATE * 1000, 1.0)
        self.heard.append(len(audio) / RATE)
        if self.by_length is not None:
            text = self.by_length(len(audio) / RATE)
        else:
            text = self.texts.pop(0) if self.texts else ""
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:  # like Whisper: a check between steps of the work
            if cancel is not None and cancel.is_set():
                self.stopped += 1
                raise Cancelled
            time.sleep(0.01)
        return Transcript(text, "en", 1.0, len(audio) / RATE * 1000, 1.0)


class ToneVoice:
    rate = RATE

    def __init__(self) -> None:
        self.said: list[str] = []

    def synthesize(self, text: str, language: str, cancel: threading.Event | None = None) -> np.ndarray:
        if cancel is not None and cancel.is_set():  # as the real speaker: a cancelled turn's clause is not said
            raise Cancelled
        self.said.append(text)
        t = np.arange(int(0.05 * len(text) * RATE)) / RATE
        return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def speech(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def conversation(
    engine: AnswerEngine,
    ears: ScriptedEars,
    voice: ToneVoice,
    messages: list | None = None,
    completion: float = 0.9,
    **options: float,
) -> Conversation:
    stages = Stages(ears, engine, voice, LoudnessVAD, completion=lambda audio: completion)
    # ears that hand out texts in order would lose one to each early transcript the viewer talks on
    # from: early recognition is off here unless asked for, and tested on its own below
    options.setdefault("speculate_after_ms", 0.0)
    conv = Conversation(stages, TurnOptions(**options), on_message=None if messages is None else messages.append)
    conv.start()
    return conv


def first_sound_after(track: np.ndarray, start: int) -> int:
    loud = np.flatnonzero(np.abs(track[start:]) > 0.01)
    return start + int(loud[0]) if len(loud) else -1


async def _one_turn(engine: AnswerEngine) -> tuple[Conversation, ToneVoice, np.ndarray, np.ndarray]:
    ears, voice = ScriptedEars(QUESTION), ToneVoice()
    conv = conversation(engine, ears, voice)
    rec = await replay(conv, np.concatenate([silence(0.3), speech(1.0)]), tail_s=0.5)
    viewer, agent = rec.viewer, rec.agent
    await conv.close()
    return conv, voice, viewer, agent


def test_a_turn_is_answered_after_a_short_pause_and_history_holds_what_was_played(engine: AnswerEngine) -> None:
    conv, voice, viewer, agent = asyncio.run(_one_turn(engine))
    _, speech_end = voiced_span(viewer, RATE)
    answer_start = first_sound_after(agent, speech_end)
    assert answer_start > speech_end
    # end-of-turn model says "complete" -> the turn ends after end_silence_ms, not max_end_silence_ms
    assert (answer_start - speech_end) / RATE < 0.6
    (turn,) = conv.turns
    assert turn.status == "answered" and "14 days" in turn.answer and turn.end_reason == "complete"
    assert [m.role for m in conv.history] == ["viewer", "agent"]
    assert conv.history[1].text == turn.answer == turn.heard and not conv.history[1].interrupted
    order = ["speech_end_vad", "vad_end", "asr_final", "llm_first_sentence", "tts_first_audio", "audio_out_first"]
    times = [turn.events[e] for e in order]
    assert times == sorted(times)
    assert all(v is not None and v >= 0 for v in turn.timings_ms().values())


async def _barge_in(engine: AnswerEngine, burst_s: float) -> tuple[Conversation, np.ndarray, np.ndarray, list[int]]:
    ears = ScriptedEars(LONG_QUESTION, "And is the Band X2 waterproof?")
    conv = conversation(engine, ears, ToneVoice())
    onsets: list[int] = []
    state = {"agent_frames": 0, "at": 0}

    def listener(i: int, agent_frame: np.ndarray) -> np.ndarray | None:
        if np.abs(agent_frame).max() > 0.01:
            state["agent_frames"] += 1
        if state["agent_frames"] == 40 and not onsets:  # 0.8 s into the answer
            onsets.append(i * RATE // 50)  # 20 ms frames
            return np.concatenate([speech(burst_s), silence(0.2)])
        return None

    rec = await replay(conv, np.concatenate([silence(0.2), speech(1.2)]), tail_s=0.6, viewer_next=listener)
    viewer, agent = rec.viewer, rec.agent
    await conv.close()
    return conv, viewer, agent, onsets


def test_barge_in_stops_the_agent_at_once_and_history_keeps_only_what_was_heard(engine: AnswerEngine) -> None:
    conv, viewer, agent, onsets = asyncio.run(_barge_in(engine, 1.2))
    (onset,) = onsets
    onset = first_sound_after(viewer, onset)
    # the agent is silent from shortly after the onset until its next answer begins
    quiet_from = onset + int(0.25 * RATE)
    next_answer = first_sound_after(agent, onset + int(1.2 * RATE))
    assert np.abs(agent[quiet_from:next_answer]).max() < 0.01
    first, second = conv.turns
    assert first.interrupted and first.heard and len(first.heard) < len(first.answer)
    assert first.answer.startswith(first.heard.rstrip(".,"))
    agent_messages = [m for m in conv.history if m.role == "agent"]
    assert agent_messages[0].text == first.heard and agent_messages[0].interrupted
    assert second.transcript == "And is the Band X2 waterproof?" and second.status == "answered"
    assert [m.role for m in conv.history] == ["viewer", "agent", "viewer", "agent"]


class SlowSecondClause(ToneVoice):
    """The first clause is said at once, the next ones take 2 s: a barge-in lands while the answer is prepared."""

    def synthesize(self, text: str, language: str, cancel: threading.Event | None = None) -> np.ndarray:
        if self.said:
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and not (cancel is not None and cancel.is_set()):
                time.sleep(0.01)
        return super().synthesize(text, language, cancel)


def test_an_answer_cut_while_it_is_still_prepared_keeps_in_its_trace_what_was_produced(
    engine: AnswerEngine,
) -> None:
    async def run() -> Conversation:
        conv = conversation(engine, ScriptedEars(LONG_QUESTION, QUESTION), SlowSecondClause())
        said = {"frames": 0, "cut": False}

        def listener(i: int, agent_frame: np.ndarray) -> np.ndarray | None:
            said["frames"] += bool(np.abs(agent_frame).max() > 0.01)
            if said["frames"] == 20 and not said["cut"]:  # 0.4 s into the first clause
                said["cut"] = True
                return np.concatenate([speech(1.0), silence(0.2)])
            return None

        await replay(conv, np.concatenate([silence(0.2), speech(1.2)]), tail_s=1.0, viewer_next=listener)
        await conv.close()
        return conv

    first = asyncio.run(run()).turns[0]
    assert first.interrupted and first.heard and first.answer.startswith(first.heard.rstrip(".,"))
    assert len(first.heard) < len(first.answer)


def test_a_cough_pauses_the_agent_briefly_and_the_whole_answer_is_still_heard(engine: AnswerEngine) -> None:
    conv, viewer, agent, onsets = asyncio.run(_barge_in(engine, 0.25))
    (first,) = conv.turns  # the cough never became a turn
    assert not first.interrupted and first.heard == first.answer
    assert conv.false_interruptions == 1
    assert [m.role for m in conv.history] == ["viewer", "agent"]


async def _speech_while_preparing(
    engine: AnswerEngine, second_s: float, *texts: str, early: bool = False
) -> tuple[Conversation, ScriptedEars, Recording]:
    """A question, and more sound 0.35 s after it, while the (slow) ASR is still working on it."""
    pick = (lambda seconds: texts[-1] if seconds > 1.8 else texts[0]) if early else None
    ears = ScriptedEars(*texts, seconds=0.5, by_length=pick)
    conv = conversation(engine, ears, ToneVoice(), speculate_after_ms=160.0 if early else 0.0)
    viewer = np.concatenate([silence(0.2), speech(0.8), silence(0.35), speech(second_s)])
    rec = await replay(conv, viewer, tail_s=1.5)
    await conv.close()
    return conv, ears, rec


@pytest.mark.parametrize("early", [False, True], ids=["recognized-after-the-turn", "recognized-early"])
def test_a_question_continued_before_the_answer_is_heard_is_answered_as_one(engine: AnswerEngine, early: bool) -> None:
    conv, ears, rec = asyncio.run(_speech_while_preparing(engine, 1.0, "Is the Band X2", QUESTION, early=early))
    assert [t.status for t in conv.turns] == ["merged", "answered"]
    assert ears.heard[-1] > 1.8  # both parts went to the ASR together
    assert [(m.role, m.text) for m in conv.history][0] == ("viewer", QUESTION)
    # nothing was played over the viewer: the answer starts after the second part
    _, speech_end = voiced_span(rec.viewer, RATE)
    assert np.abs(rec.agent[:speech_end]).max() < 0.01 and np.abs(rec.agent[speech_end:]).max() > 0.1


def test_the_recognition_of_a_question_the_viewer_goes_on_with_is_stopped_not_left_running(
    engine: AnswerEngine,
) -> None:
    async def run() -> tuple[Conversation, ScriptedEars]:
        ears = ScriptedEars("Is the Band X2", QUESTION, seconds=2.0)
        conv = conversation(engine, ears, ToneVoice())
        await replay(conv, np.concatenate([silence(0.2), speech(0.8), silence(0.35), speech(1.0)]), tail_s=4.0)
        await conv.close()
        return conv, ears

    conv, ears = asyncio.run(run())
    assert ears.stopped == 1  # the first part's transcription ended when the viewer went on
    assert [t.status for t in conv.turns] == ["merged", "answered"]
    assert [stage for stage, _ in conv.work.after_cancel] == ["asr"]


def test_a_cough_while_the_answer_is_prepared_does_not_lose_it(engine: AnswerEngine) -> None:
    conv, _, rec = asyncio.run(_speech_while_preparing(engine, 0.25, QUESTION))
    (turn,) = conv.turns
    assert turn.status == "answered" and turn.heard == turn.answer and not turn.interrupted
    assert conv.false_interruptions == 1


def test_in_a_room_with_several_askers_the_answer_begins_with_the_askers_name(engine: AnswerEngine) -> None:
    async def run() -> tuple[Conversation, ToneVoice]:
        voice = ToneVoice()
        conv = conversation(engine, ScriptedEars(QUESTION), voice)
        conv.rules.addressee = "Alice"
        await replay(conv, np.concatenate([silence(0.3), speech(1.0)]), tail_s=0.5)
        await conv.close()
        return conv, voice

    conv, voice = asyncio.run(run())
    assert voice.said[0].startswith("Alice, ") and len([s for s in voice.said if "Alice" in s]) == 1
    assert conv.history[-1].text.startswith("Alice, ") and "14 days" in conv.history[-1].text


def test_the_same_question_from_a_second_viewer_is_not_answered_all_over_again(engine: AnswerEngine) -> None:
    from agent.session.same_questions import SameQuestions

    async def run() -> tuple[list[Conversation], list[ToneVoice]]:
        same = SameQuestions()
        voices = [ToneVoice(), ToneVoice()]
        conversations = [conversation(engine, ScriptedEars(), voice) for voice in voices]
        for conv, name in zip(conversations, ("Alice", "Bob"), strict=True):
            conv.rules.addressee = name
            conv.rules.claim = lambda plan, conv=conv, name=name: same.claim(conv, name, plan)
        conversations[0].ask(QUESTION)
        while not conversations[0].playout.active:  # Alice's answer has begun
            await asyncio.sleep(0.01)
        conversations[1].ask(QUESTION.replace("How long", "how long"))
        for _ in range(600):  # play both answers out
            for conv in conversations:
                conv.play(RATE // 50)
            await asyncio.sleep(0.001)
            if all(c.turns and c.turns[-1].status and not c.busy for c in conversations):
                break
        for conv in conversations:
            await conv.close()
        return conversations, voices

    (alice, bob), (alice_voice, bob_voice) = asyncio.run(run())
    assert alice.turns[0].status == "answered" and "14 days" in alice.turns[0].answer
    assert bob.turns[0].status == "duplicate"
    assert bob_voice.said == ["Bob, Alice just asked the same thing; that answer was for you too."]
    assert bob.history[-1].text == bob_voice.said[0]


def test_a_muted_agent_prepares_the_answer_as_text_and_plays_nothing(engine: AnswerEngine) -> None:
    async def run() -> tuple[Conversation, ToneVoice, float]:
        voice = ToneVoice()
        conv = conversation(engine, ScriptedEars(), voice)
        conv.rules.aloud = False
        conv.ask(QUESTION)
        loudest = 0.0
        for _ in range(200):
            loudest = max(loudest, float(np.abs(conv.play(RATE // 50)).max()))
            await asyncio.sleep(0.005)
            if conv.turns[-1].status and not conv.busy:
                break
        await conv.close()
        return conv, voice, loudest

    conv, voice, loudest = asyncio.run(run())
    (turn,) = conv.turns
    assert turn.status == "answered" and "14 days" in turn.answer and turn.heard == ""
    assert voice.said == [] and loudest == 0.0


@pytest.mark.parametrize("text", ["", "嗯", "uh-huh"])
def test_a_backchannel_or_empty_transcript_is_not_a_question(engine: AnswerEngine, text: str) -> None:
    async def run() -> Conversation:
        conv = conversation(engine, ScriptedEars(text), ToneVoice())
        await replay(conv, np.concatenate([silence(0.2), speech(0.6)]), tail_s=0.4)
        await conv.close()
        return conv

    conv = asyncio.run(run())
    assert [t.status for t in conv.turns] == ["ignored"] and conv.history == []


def test_partial_transcripts_stream_while_the_viewer_speaks_then_the_final_one(engine: AnswerEngine) -> None:
    messages: list[dict] = []

    async def run() -> Conversation:
        conv = conversation(engine, ScriptedEars(QUESTION), ToneVoice(), messages, partial_every_ms=320)
        await replay(conv, np.concatenate([silence(0.2), speech(1.5)]), tail_s=0.4)
        await conv.close()
        return conv

    conv = asyncio.run(run())
    user = [m for m in messages if m.get("type") == "transcript" and m["role"] == "user"]
    drafts = [m["text"] for m in user if not m["final"]]
    assert len(drafts) >= 2 and drafts == sorted(drafts)  # each draft covers more of the turn
    assert user[-1] == {"type": "transcript", "role": "user", "text": QUESTION, "final": True}
    assert conv.turns[0].partials == drafts
    assert any(m.get("type") == "transcript" and m["role"] == "agent" for m in messages)


@pytest.mark.parametrize(
    ("follow_up", "expected"),
    [("How much is it?", "SmartBand X2"), ("How much is the Zephyr?", "can't find")],
)
def test_a_follow_up_that_points_back_inherits_the_product_and_nothing_else_does(
    engine: AnswerEngine, follow_up: str, expected: str
) -> None:
    async def run() -> Conversation:
        conv = conversation(engine, ScriptedEars(QUESTION, follow_up), ToneVoice())
        viewer = np.concatenate([silence(0.2), speech(1.0), silence(4.0), speech(1.0)])
        await replay(conv, viewer, tail_s=0.5)
        await conv.close()
        return conv

    conv = asyncio.run(run())
    assert [t.transcript for t in conv.turns] == [QUESTION, follow_up]
    assert expected in conv.turns[1].answer


def test_once_an_answer_has_ended_the_same_question_is_answered_afresh() -> None:
    from agent.answer.plan import Plan
    from agent.session.same_questions import SameQuestions

    now = [0.0]
    same = SameQuestions(clock=lambda: now[0])
    plan = Plan("price?", "en", "answered", "spec", ("band-x2",), aspect="price")
    alice, bob, carol = object(), object(), object()
    assert same.claim(alice, "Alice", plan) is None
    assert same.claim(bob, "Bob", plan) == "Alice"  # asked while Alice's answer plays
    same.finished(alice)
    now[0] += 5.0
    assert same.claim(carol, "Carol", plan) is None  # Alice's answer is over: Carol gets her own
    same.forget(carol)
    assert same.claim(bob, "Bob", plan) is None


def test_the_room_plays_answers_in_the_order_the_questions_were_asked(engine: AnswerEngine) -> None:
    from agent.rtc.voice_track import Floor

    async def run() -> tuple[list[str], Conversation, Conversation]:
        first, second = (conversation(engine, ScriptedEars(), ToneVoice()) for _ in range(2))
        floor = Floor()
        floor.conversations = [second, first]  # joined the other way round
        first.ask(QUESTION)
        await asyncio.sleep(0.01)
        second.ask("How much is the SmartBand X2?")
        while not (first.playout.active and second.playout.active):  # both answers ready, none playing
            await asyncio.sleep(0.01)
        order = []
        for _ in range(2000):
            floor.read(RATE // 50)
            if floor.holder is not None and (not order or order[-1] != floor.holder.turns[-1].transcript):
                order.append(floor.holder.turns[-1].transcript)
            if not (first.busy or second.busy):
                break
            await asyncio.sleep(0)
        for conv in (first, second):
            await conv.close()
        return order, first, second

    order, first, second = asyncio.run(run())
    assert order == [QUESTION, "How much is the SmartBand X2?"]


def test_a_closed_conversation_is_freed_at_once_not_at_the_collectors_next_full_pass(engine: AnswerEngine) -> None:
    """Its VAD holds a native model (Silero: about 2 MB); a cycle would keep it until a rare full collection."""

    async def main() -> weakref.ref[Conversation]:
        conv, *_ = await _one_turn(engine)  # heard, answered, played, closed
        assert conv.turns and conv.turns[0].answer
        return weakref.ref(conv)

    _freed_without_the_collector(main())


def _freed_without_the_collector(run: Coroutine[Any, Any, weakref.ref[Conversation]]) -> None:
    """Runs `run` with the garbage collector off; what it returns a weak reference to must be gone."""
    gc.collect()
    gc.disable()
    try:
        gone = asyncio.run(run)
        assert gone() is None, [type(r).__name__ for r in gc.get_referrers(gone())]
    finally:
        gc.enable()


async def _early_or_not(
    engine: AnswerEngine, viewer: np.ndarray, speculate_ms: float
) -> tuple[Conversation, ScriptedEars]:
    """The end-of-turn model never hears a complete sentence: each turn ends after the long pause."""
    ears = ScriptedEars(by_length=lambda seconds: QUESTION if seconds > 1.5 else "How long", seconds=0.4)
    conv = conversation(engine, ears, ToneVoice(), completion=0.1, speculate_after_ms=speculate_ms)
    await replay(conv, viewer, tail_s=2.5)
    await conv.close()
    return conv, ears


def test_a_turn_that_ends_in_its_first_pause_is_answered_from_the_transcript_begun_in_that_pause(
    engine: AnswerEngine,
) -> None:
    viewer = np.concatenate([silence(0.2), speech(1.4)])
    early, ears = asyncio.run(_early_or_not(engine, viewer, 160.0))
    (turn,) = early.turns
    assert turn.status == "answered" and "14 days" in turn.answer
    assert len(ears.heard) == 1 and early.early.used == 1  # recognized once, in the pause
    e = turn.events
    assert e["speech_end_vad"] < e["asr_begun_early"] < e["vad_end"] <= e["asr_final"]
    # the 0.4 s of recognition ran while the turn's end was being decided; after the turn: at once
    assert e["asr_final"] - e["vad_end"] < 0.4
    late, _ = asyncio.run(_early_or_not(engine, viewer, 0.0))
    assert late.turns[0].events["asr_final"] - late.turns[0].events["vad_end"] >= 0.4
    assert "asr_begun_early" not in late.turns[0].events


def test_an_early_transcript_is_stopped_when_the_viewer_goes_on_and_the_whole_turn_is_recognized(
    engine: AnswerEngine,
) -> None:
    viewer = np.concatenate([silence(0.2), speech(0.6), silence(0.3), speech(1.0)])  # on after 0.3 s
    conv, ears = asyncio.run(_early_or_not(engine, viewer, 160.0))
    (turn,) = conv.turns
    assert turn.status == "answered" and turn.transcript == QUESTION
    assert ears.stopped == 1 and (conv.early.begun, conv.early.dropped, conv.early.used) == (2, 1, 1)
    assert ears.heard[0] < 1.5 < ears.heard[-1]  # the first part alone (stopped), then the whole turn


def test_a_viewer_who_leaves_the_room_is_freed_at_once_even_while_the_show_talks(engine: AnswerEngine) -> None:
    """The agent's listener and its conversation refer to each other (captions, the same-question
    claim); while a show talks the idle collection never runs, so they must not wait for one."""
    from agent.rtc.agent_participant import AgentParticipant

    async def main() -> weakref.ref[Conversation]:
        agent = AgentParticipant(
            "http://127.0.0.1:9", "live", "token", lambda rate: Stages(ScriptedEars(), engine, ToneVoice(), LoudnessVAD)
        )
        listener = agent._listener("p1", "Dana")
        listener.chat_turns.add(listener.conversation.ask("How much is the Band X2?"))
        for _ in range(200):  # answered (its clauses queued on the floor)
            if listener.conversation.turns[0].status:
                break
            await asyncio.sleep(0.01)
        gone = weakref.ref(listener.conversation)
        await agent._drop("p1")
        del listener
        return gone

    _freed_without_the_collector(main())
