"""One conversation with one listener: its turn loop, its history and the trace of every turn.

Data flows one way: viewer audio -> `TurnDetector` -> ASR -> `AnswerEngine` (clause by clause) ->
`Speaker` -> `Playout` -> the transport. Control flows back only through `interrupt`, the one
place that decides what a barge-in cancels. History is written from what the `Playout` reports
as heard, so after a barge-in the agent never believes it said more than the viewer heard.

The conversation does not own a clock or a socket: a transport calls `hear` with the viewer's
audio as it arrives and `play` whenever it needs the next frame of agent audio, and receives
transcripts and `clear` requests through `on_message`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from agent.answer.engine import Answer
from agent.engines import Cancel, Cancelled
from agent.session.playout import Heard, Playout, Segment
from agent.session.reply import Message, Reply
from agent.session.room_rules import RoomRules
from agent.session.same_questions import same_question_reply
from agent.session.speculation import EarlyTranscripts
from agent.session.stages import Stages, StageWork
from agent.session.trace import TurnTrace
from agent.turns.detector import (
    InterruptionConfirmed,
    InterruptionDismissed,
    InterruptionStarted,
    PartialAudio,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    TurnDetector,
    TurnEnded,
    TurnEvent,
)
from agent.turns.options import TurnOptions
from agent.workers import in_thread
from knowledge.resolve import refers_back
from knowledge.text import compact

log = logging.getLogger("livehost.conversation")

# sounds that are not a question: fillers, backchannels, and what Whisper writes for near-silence
NOT_A_QUESTION = {
    compact(w)
    for w in "嗯 嗯嗯 啊 哦 噢 呃 额 对 对对 好 好的 是 是的 嗯哼 um uh uh-huh mm mhm hmm ok okay yeah yes right "
    "you thank you. thanks 谢谢 谢谢观看 字幕 请不吝点赞订阅转发打赏支持明镜与点点栏目".split()
}


_CONVERSATION_IDS = itertools.count(1)


def _nowhere(message: dict[str, Any]) -> None:
    """Where a closed conversation's messages go."""


class Conversation:
    def __init__(
        self,
        stages: Stages,
        options: TurnOptions | None = None,
        *,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        rules: RoomRules | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stages = stages
        self.id = next(_CONVERSATION_IDS)  # with the turn's number, an id unique in this process
        self.options = options or stages.turn_options or TurnOptions()
        self.on_message = on_message or (lambda message: None)
        self.rules = rules or RoomRules()  # the room's: read here, never set
        self.focus: str | None = None  # the product this conversation last talked about
        self.clock = clock
        self.detector = TurnDetector(stages.new_vad(), self.options, stages.completion)
        self.playout = Playout(stages.speaker.rate, on_segment=self._on_segment, on_heard=self._on_heard)
        self.history: list[Message] = []
        self.turns: list[TurnTrace] = []
        self._inbox: asyncio.Queue[tuple[np.ndarray, float] | None] = asyncio.Queue()
        self._replies: dict[int, Reply] = {}
        self._current: Reply | None = None
        self._continued: Reply | None = None  # an unheard answer the viewer talked over: merged into the next turn
        self._partial: asyncio.Task[None] | None = None
        self._partial_cancel = Cancel()  # set when the draft being made can no longer be shown
        self._partial_language: str | None = None
        self.partials: list[str] = []  # drafts of the turn being spoken
        self._listening: asyncio.Task[None] | None = None
        self.false_interruptions = 0
        self.work = StageWork(stages.stop_cancelled_work)
        self.early = EarlyTranscripts(self.work, stages.recognizer)

    # ---- transport side -------------------------------------------------------------------
    def start(self) -> None:
        self._listening = asyncio.get_running_loop().create_task(self._listen())

    def hear(self, samples: np.ndarray, at: float | None = None) -> None:
        """Viewer audio (16 kHz mono float32) whose last sample arrived at clock time `at`."""
        self._inbox.put_nowait((samples, self.clock() if at is None else at))

    def play(self, n: int) -> np.ndarray:
        """The next `n` samples of agent audio at `speaker.rate` (silence when it has nothing to say)."""
        frame = self.playout.read(n)
        self._sync_engaged()
        return frame

    def _sync_engaged(self) -> None:
        """The viewer's speech counts as an interruption while an answer is being prepared or played:
        speech then holds the answer at once, and only speech that lasts cancels it."""
        self.detector.agent_speaking = self.playout.active or any(not r.done for r in self._replies.values())

    @property
    def asked_at(self) -> float:
        """When the question now being answered was asked (its end, on the clock); inf when none is."""
        reply = self._current
        if reply is None or reply.done:
            return float("inf")
        events = reply.turn.events
        return events.get("vad_end", events.get("asr_final", float("inf")))

    @property
    def busy(self) -> bool:
        """The agent is preparing or playing an answer, or the viewer is mid-turn."""
        return self.detector.in_turn or self.playout.active or any(not r.done for r in self._replies.values())

    async def close(self) -> None:
        self._partial_cancel.set()
        self.early.drop()
        self.interrupt("closed")
        for task in (self._listening, self._partial):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        # The playout calls back into this conversation: a reference cycle that only the garbage
        # collector's rare full pass would free, and with it the VAD's native model (about 2 MB a
        # conversation). Cut here, the conversation goes as soon as its holder lets it go.
        self.playout.on_segment = self.playout.on_heard = None
        self.on_message = _nowhere  # the holder's callback (the room's captions) refers back to it too

    # ---- listening --------------------------------------------------------------------------
    async def _listen(self) -> None:
        while True:
            item = await self._inbox.get()
            chunks = [item]
            while not self._inbox.empty():  # catch up in one call after a slow step
                chunks.append(self._inbox.get_nowait())
            if any(c is None for c in chunks):
                return
            samples = np.concatenate([c[0] for c in chunks if c])
            at = max(c[1] for c in chunks if c)
            try:
                events = await in_thread(self.detector.feed, samples, at)
            except Exception:  # a detector failure must not end the conversation
                log.exception("turn detection failed on %d samples", len(samples))
                continue
            for event in events:
                self._handle(event)

    def _handle(self, event: TurnEvent) -> None:
        now = self.clock()
        if isinstance(event, SpeechStarted):
            self._partial_cancel.set()  # a draft of the previous turn
            self.early.drop()
            self._partial_language, self.partials = None, []
            self.on_message({"type": "vad", "speaking": True})
        elif isinstance(event, InterruptionStarted):
            self.playout.pause()  # stop at once; whether it was a real interruption is decided later
            if self._current:
                self._current.turn.mark("interruption_onset", event.onset)
                self._current.turn.mark("interruption_paused", now)
        elif isinstance(event, InterruptionConfirmed):
            current = self._current
            if current and not current.done and not current.heard and "audio_out_first" not in current.turn.events:
                self._continued = current  # nothing of the answer was heard: the viewer is still asking
            self.interrupt("barge_in")
        elif isinstance(event, InterruptionDismissed):
            self.false_interruptions += 1
            if self._current:
                self._current.turn.events.pop("interruption_onset", None)
                self._current.turn.events.pop("interruption_paused", None)
            self.playout.resume()
        elif isinstance(event, PartialAudio):
            if self._partial is None or self._partial.done():
                self._partial_cancel = Cancel()
                self._partial = asyncio.get_running_loop().create_task(
                    self._transcribe_partial(event.audio, self._partial_cancel)
                )
        elif isinstance(event, SpeechPaused):
            self.early.begin(event.audio, now)
        elif isinstance(event, SpeechResumed):
            self.early.drop()
        elif isinstance(event, TurnEnded):
            self._partial_cancel.set()  # the final transcript is made now; a draft would only compete
            self._begin_turn(event, now)

    async def _transcribe_partial(self, audio: np.ndarray, cancel: Cancel) -> None:
        """A draft of the turn so far, for live captions; the final transcript is made afresh."""
        recognizer = self.stages.recognizer
        try:
            result = await self.work.run(
                "asr", cancel, recognizer.transcribe, audio, self._partial_language, partial=True
            )
        except Cancelled:
            return
        except Exception:
            log.exception("partial transcript failed")
            return
        self._partial_language = result.language  # later drafts of this turn skip language detection
        if result.text and self.detector.in_turn:
            self.partials.append(result.text)
            self.on_message({"type": "transcript", "role": "user", "text": result.text, "final": False})

    # ---- answering --------------------------------------------------------------------------
    def _begin_turn(self, ended: TurnEnded, now: float) -> None:
        audio, onset = ended.audio, ended.onset
        previous, self._continued = self._continued, None
        if previous is not None and len(previous.audio):
            # the viewer went on talking before hearing any of the answer: one question in two parts
            self.early.drop()  # an early transcript lacks the first part: not this turn's
            early = None
            audio = np.concatenate([previous.audio, audio])
            onset = previous.turn.events.get("speech_start_vad", onset)
            previous.turn.status = "merged"
            self._drop_last_viewer_message(previous.turn.id)
        else:
            early = self.early.take(audio)
        turn = TurnTrace(len(self.turns) + 1, end_reason=ended.reason, completion=ended.completion)
        turn.partials = self.partials
        self.partials = []
        turn.mark("speech_start_vad", onset)
        turn.mark("speech_end_vad", ended.speech_end)
        turn.mark("vad_end", now)
        reply = Reply(turn, audio=audio, addressee=self.rules.addressee)
        if early is not None:  # the turn ended in the pause its recognition began in
            reply.cancel, reply.early = early.cancel, early.task
            turn.mark("asr_begun_early", early.begun_at)
        self._start_reply(reply, "viewer_continued")

    def ask(self, text: str, addressee: str | None = None) -> int:
        """A typed question (a chat message): answered aloud like a spoken turn, without the ASR; its turn id."""
        turn = TurnTrace(len(self.turns) + 1, end_reason="typed")
        turn.mark("asr_final", self.clock())
        reply = Reply(turn, audio=np.zeros(0, dtype=np.float32), addressee=addressee or self.rules.addressee)
        self._start_reply(reply, "next_question", text)
        return turn.id

    def _start_reply(self, reply: Reply, reason: str, typed: str | None = None) -> None:
        """The next question replaces an answer still under way (`reason` says why), then is answered."""
        if self._current and not self._current.done:
            self.interrupt(reason)
        self.turns.append(reply.turn)
        reply.task = asyncio.get_running_loop().create_task(self._respond(reply, typed))
        self._replies[reply.turn.id] = reply
        self._current = reply
        self._sync_engaged()

    async def _respond(self, reply: Reply, typed: str | None = None) -> None:
        turn = reply.turn
        try:
            if typed is None:
                heard = await (reply.early or self.early.recognize(reply.audio, reply.cancel))
                turn.mark("asr_final", self.clock())
                text, turn.language = heard.text, heard.language
            else:
                text = typed.strip()
            turn.transcript = text
            if compact(text) in NOT_A_QUESTION or not compact(text):
                turn.status = "ignored"
                self._finish(reply)
                return
            accepts = self.rules.accepts
            if accepts is not None:  # e.g. the host's speech: a question only when put to the agent
                addressed = accepts(text)
                if addressed is None:
                    turn.status = "not_addressed"
                    self._finish(reply)
                    return
                text = addressed
            self.on_message({"type": "transcript", "role": "user", "text": text, "final": True})
            self.history.append(Message("viewer", text, turn.id))
            await self._answer(reply, text)
        except asyncio.CancelledError:
            raise
        except Cancelled:  # a stage stopped its work for this turn: `interrupt` has already said why
            pass
        except Exception as e:  # a failing model must cost this answer, never the conversation
            log.exception("turn %d failed", turn.id)
            turn.status = f"error: {e}"
        reply.produced = True
        self._finish_if_played(reply)

    async def _answer(self, reply: Reply, question: str) -> None:
        turn, loop = reply.turn, asyncio.get_running_loop()
        clauses: asyncio.Queue[tuple[Answer, Any] | None] = asyncio.Queue()
        stage = self.rules.on_stage or (self.focus if refers_back(question) else None)
        start = self.clock()

        def produce() -> None:
            try:
                for item in self.stages.engine.stream(question, stage, reply.cancel):
                    loop.call_soon_threadsafe(clauses.put_nowait, item)
            finally:
                loop.call_soon_threadsafe(clauses.put_nowait, None)

        producer = loop.create_task(self.work.run("answer", reply.cancel, produce))
        answer: Answer | None = None
        try:
            while (item := await clauses.get()) is not None:
                answer, clause = item
                turn.mark("llm_first_sentence", self.clock())
                reply.language = answer.plan.language
                text = clause.text
                if not self.rules.aloud:
                    continue  # the whole answer is still produced, for the chat
                claim = self.rules.claim
                first = None if reply.queued or claim is None else claim(answer.plan)
                if first is not None:  # another viewer's answer is this one's: say so, not it all again
                    reply.duplicate = same_question_reply(reply.language, first)
                    text = reply.duplicate
                if reply.addressee and not reply.queued:  # in a room, the first clause names who asked
                    text = f"{reply.addressee}{'，' if reply.language == 'zh' else ', '}{text}"
                pcm = await self.work.run("tts", reply.cancel, self.stages.speaker.synthesize, text, reply.language)
                turn.mark("tts_first_audio", self.clock())
                reply.queued += 1
                self.playout.enqueue(turn.id, text, reply.language, pcm)
                if reply.duplicate:
                    reply.cancel.set()  # the engine's answer is not needed (the note itself is already made)
                    break
            await producer
        finally:
            reply.cancel.set()  # stops the engine (and its LLM) if this task was cancelled
            if answer is not None and not turn.answer:  # cut short: the trace keeps what was produced
                turn.answer, turn.language = answer.text, answer.plan.language
            if answer is not None:
                turn.products = answer.plan.product_ids or answer.plan.candidates
        if answer is None:
            return
        if reply.duplicate:
            turn.answer, turn.status, turn.language = reply.duplicate, "duplicate", answer.plan.language
            return
        first_token = answer.timings_ms.get("llm_first_token") or answer.timings_ms.get("first_clause")
        if first_token is not None:
            turn.mark("llm_first_token", start + first_token / 1000)
        turn.answer, turn.status, turn.language = answer.text, answer.plan.status, answer.plan.language
        if answer.plan.status == "answered" and len(answer.plan.product_ids) == 1:
            self.focus = answer.plan.product_ids[0]

    def _on_segment(self, segment: Segment) -> None:
        reply = self._replies.get(segment.answer_id)
        if reply:
            reply.turn.mark("audio_out_first", self.clock())
        self.on_message({"type": "transcript", "role": "agent", "text": segment.text, "final": True})

    def _on_heard(self, heard: Heard) -> None:
        reply = self._replies.get(heard.answer_id)
        if reply is None:
            return
        reply.heard.append(heard.text)
        if heard.complete:
            reply.queued -= 1
            self._finish_if_played(reply)

    def _finish_if_played(self, reply: Reply) -> None:
        if reply.produced and reply.queued <= 0 and not reply.done:
            self._finish(reply)

    def _finish(self, reply: Reply, interrupted: bool = False) -> None:
        """The answer is over (played, cut or empty): history gets exactly what was heard."""
        if reply.done:
            return
        reply.done = True
        joiner = "" if reply.language == "zh" else " "
        reply.turn.heard = joiner.join(reply.heard)
        reply.turn.interrupted = interrupted
        if reply.turn.heard:
            self.history.append(Message("agent", reply.turn.heard, reply.turn.id, interrupted))
        self._replies.pop(reply.turn.id, None)
        self._sync_engaged()
        record = reply.turn.to_json()
        self.on_message({"type": "turn", **record})
        if self.stages.on_turn is not None:
            self.stages.on_turn({"id": f"c{self.id}-t{reply.turn.id}", **record})

    def interrupt(self, reason: str) -> None:
        """The viewer talked over the agent (or left): the one place that decides what that cancels.

        Cancelled: the answer being produced (ASR, engine and LLM, synthesis) and every unplayed
        sample. Kept: the viewer's question, the part of the answer that was heard (in history, marked
        interrupted), and the viewer's interrupting speech, which goes on to become the next turn.
        """
        for reply in list(self._replies.values()):
            if reply.done:
                continue
            reply.cancel.set()
            if reply.task:
                reply.task.cancel()
            reply.turn.mark("interrupted", self.clock())
            if not reply.heard and not reply.turn.events.get("audio_out_first"):
                reply.turn.status = reply.turn.status or "cancelled"
        cut = self.playout.clear()  # reports the heard part of a cut clause through _on_heard
        for reply in list(self._replies.values()):
            self._finish(reply, interrupted=bool(cut) or reason == "barge_in")
        self._sync_engaged()
        self.on_message({"type": "clear", "reason": reason})

    def _drop_last_viewer_message(self, turn_id: int) -> None:
        if self.history and self.history[-1].role == "viewer" and self.history[-1].turn == turn_id:
            self.history.pop()
