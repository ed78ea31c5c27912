"""The spoken-turn benchmark (`livehost bench`): voice-to-voice, each stage, barge-in stop latency.

A scripted viewer speaks catalog questions (synthesized with the project's own voices, in both
languages) into one real conversation at real pace, waits for each answer, and in the barge-in
part talks over the agent at varied offsets, or only coughs / says "uh-huh" / makes noise, which
must not stop it. Some questions are asked in two parts with a pause long enough to end the turn:
the agent must answer them as one question, and drop the work it began on the first part.
Every figure is read off the two recorded tracks on one clock (latency.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.audio import RATE, voiced_span
from agent.session.conversation import Conversation, Stages
from agent.transports.recorded import measure
from agent.transports.replay import FRAME_MS, Recording, replay
from evals.activity import Segment, barge_in_stop, segments
from evals.faq import DEFAULT_QUESTIONS, Question, load_questions, machine, today
from evals.report import percentile_table, write_report
from evals.stats import percentiles, share, yielded
from knowledge.catalog import Catalog
from knowledge.text import compact

STEP = RATE * FRAME_MS // 1000
GAP_MS = 800  # quiet agent time before the viewer asks the next question
PAUSE_S = 1.1  # a question asked in two parts: longer than the longest end-of-turn wait (960 ms)
ANSWER_TIMEOUT_MS = 15000


@dataclass
class Cue:
    """One thing the scripted viewer says, and when."""

    kind: str  # question | paused (a question in two parts) | interrupt | distract
    audio: np.ndarray
    text: str = ""
    question: Question | None = None
    offset_ms: int = 0  # interrupt/distract: audible agent time after which it starts
    start: int | None = None  # viewer sample where it was played


@dataclass
class ScriptedViewer:
    """Decides each 20 ms what the viewer says next, from what it has heard of the agent."""

    cues: list[Cue]
    index: int = 0
    busy_until: int = 0  # frame at which the viewer's current audio ends
    audible_frames: int = 0  # agent frames heard since the last cue ended
    quiet_frames: int = 0
    waited_frames: int = 0
    log: list[Cue] = field(default_factory=list)

    def __call__(self, frame: int, agent: np.ndarray) -> np.ndarray | None:
        if frame < self.busy_until:
            return None
        audible = float(np.abs(agent).max()) > 10 ** (-50 / 20)
        self.audible_frames += audible
        self.quiet_frames = 0 if audible else self.quiet_frames + 1
        self.waited_frames += 1
        if self.index >= len(self.cues):
            return None
        cue = self.cues[self.index]
        if cue.kind in ("question", "paused"):
            answered = self.audible_frames > 0 and self.quiet_frames * FRAME_MS >= GAP_MS
            first = self.index == 0 and self.waited_frames * FRAME_MS >= 500
            if not (answered or first or self.waited_frames * FRAME_MS >= ANSWER_TIMEOUT_MS):
                return None
        elif self.audible_frames * FRAME_MS < cue.offset_ms and self.waited_frames * FRAME_MS < ANSWER_TIMEOUT_MS:
            return None
        cue.start = frame * STEP
        self.busy_until = frame + -(-len(cue.audio) // STEP)
        self.index += 1
        self.audible_frames = self.quiet_frames = self.waited_frames = 0
        self.log.append(cue)
        return cue.audio

    @property
    def done(self) -> bool:
        return self.index >= len(self.cues)


def pick_questions(catalog: Catalog, n: int, path: Path = DEFAULT_QUESTIONS) -> list[Question]:
    """`n` answerable questions, half Chinese and half English, spread over the set."""
    questions = [q for q in load_questions(path, catalog) if q.status == "answered" and not q.on_stage]
    by_lang = {lang: [q for q in questions if q.lang == lang] for lang in ("zh", "en")}
    picked: list[Question] = []
    for k in range(n):
        pool = by_lang["zh" if k % 2 == 0 else "en"]
        picked.append(pool[(k // 2 * 7) % len(pool)])
    return picked


def distractions(say: Callable[[str, str], np.ndarray], noise: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    """Sounds that must not stop the agent: backchannels in both languages, a clap, noise."""
    rng = np.random.default_rng(7)
    clap = np.zeros(int(0.12 * RATE), dtype=np.float32)
    clap[: int(0.03 * RATE)] = rng.standard_normal(int(0.03 * RATE)).astype(np.float32) * 0.5
    clap *= np.exp(-np.arange(len(clap)) / (0.01 * RATE)).astype(np.float32)
    items = [("uh-huh", say("Uh-huh.", "en")), ("嗯", say("嗯。", "zh")), ("clap", clap)]
    if noise is not None:
        items.append(("noise", noise[: int(1.0 * RATE)] * 0.5))
    return items


async def run_bench(
    stages: Stages,
    say: Callable[[str, str], np.ndarray],
    questions: list[Question],
    barge_ins: int,
    noise: np.ndarray | None = None,
    progress: bool = True,
    paused: int = 0,
) -> dict[str, Any]:
    """Plays the script and returns the figures; `say(text, language)` gives 16 kHz viewer speech."""
    cues = [Cue("question", say(q.question, q.lang), q.question, q) for q in questions]
    for k in range(paused):
        q = questions[(k * 3 + 1) % len(questions)]
        cues.append(Cue("paused", in_two_parts(say, q), q.question, q))
    long_answers = [q for q in questions if q.lang == "en"][:4] + [q for q in questions if q.lang == "zh"][:4]
    offsets = [300, 600, 900, 1200, 1500]
    others = distractions(say, noise)
    for k in range(barge_ins):
        q = long_answers[k % len(long_answers)]
        follow = questions[(k * 5 + 3) % len(questions)]
        cues.append(Cue("question", say(q.question, q.lang), q.question, q))
        if k % 3 == 2:  # every third answer only hears a backchannel, a clap or noise
            name, audio = others[(k // 3) % len(others)]
            cues.append(Cue("distract", audio, name, offset_ms=offsets[k % len(offsets)]))
        else:
            cues.append(
                Cue("interrupt", say(follow.question, follow.lang), follow.question, follow, offsets[k % len(offsets)])
            )
    viewer = ScriptedViewer(cues)
    conversation = Conversation(stages)
    conversation.start()
    started = time.perf_counter()
    shown = [-1]

    def script(frame: int, agent: np.ndarray) -> np.ndarray | None:
        if progress and viewer.index != shown[0]:
            shown[0] = viewer.index
            elapsed = time.perf_counter() - started
            print(f"\r  bench: cue {viewer.index}/{len(cues)} ({elapsed:.0f} s)", end="", flush=True)
        return viewer(frame, agent)

    try:
        recording = await replay(
            conversation, np.zeros(0, dtype=np.float32), tail_s=1.5, viewer_next=script, hold=lambda: not viewer.done
        )
    finally:
        await conversation.close()
    if progress:
        print()
    return summarize(conversation, recording, viewer.log)


def in_two_parts(say: Callable[[str, str], np.ndarray], q: Question) -> np.ndarray:
    """The question's first half, a pause that ends the turn, then the rest (halved by words, or characters in zh)."""
    if q.lang == "zh":
        half = len(q.question) // 2
        parts = [q.question[:half], q.question[half:]]
    else:
        words = q.question.split()
        parts = [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]
    first, second = (say(p, q.lang) for p in parts)
    return np.concatenate([first, np.zeros(int(PAUSE_S * RATE), dtype=np.float32), second])


def summarize(conversation: Conversation, recording: Recording, cues: list[Cue]) -> dict[str, Any]:
    measured = measure(conversation, recording)
    # the agent's sound as the listener heard it, on the conversation's clock (the harness reads it the same way)
    found = [
        Segment(recording.start + s.start, recording.start + s.end)
        for s in segments(recording.agent, recording.agent_rate)
    ]
    by_id = {m.trace.id: m for m in measured}
    rows: list[dict[str, Any]] = []
    for cue in cues:
        if cue.start is None:
            continue
        first, last = voiced_span(cue.audio, RATE)
        onset = recording.viewer_time(cue.start + first)
        end = recording.viewer_time(cue.start + last)
        turn = _turn_for(measured, onset, end)
        row: dict[str, Any] = {"kind": cue.kind, "text": cue.text, "onset": onset, "speech_end": end}
        if turn is not None:
            row.update(
                turn=turn.trace.id,
                transcript=turn.trace.transcript,
                answer=turn.trace.heard or turn.trace.answer,
                status=turn.trace.status,
                timings_ms=turn.timings_ms(),
            )
            if cue.question is not None:
                row["correct"] = contains_facts(row["answer"], cue.question) and turn.trace.status == "answered"
                row["language"] = cue.question.lang
        if cue.kind in ("interrupt", "distract"):
            stop = barge_in_stop(found, onset, end)
            row["stop_ms"] = stop.ms  # None: the agent was not speaking when the cue began
            row["yielded"] = yielded(stop.ms, stop.resumed) if stop.ms is not None else None
            answering = next((r for r in reversed(rows) if r["kind"] == "question" and "turn" in r), None)
            cut = answering is not None and by_id[answering["turn"]].trace.interrupted
            row["cut_answer"] = cut
        rows.append(row)
    questions = [r for r in rows if r["kind"] == "question" and "turn" in r]
    clean = [r for r in questions if not _was_interrupted(r, rows)]
    interrupts = [r for r in rows if r["kind"] == "interrupt"]
    distracts = [r for r in rows if r["kind"] == "distract"]
    paused = [r for r in rows if r["kind"] == "paused"]
    stages = ("endpointing", "asr", "llm_first_token", "llm_first_sentence", "tts", "transport", "voice_to_voice")
    figures = {
        name: percentiles([r["timings_ms"][name] for r in clean if r["timings_ms"].get(name) is not None])
        for name in stages
    }
    return {
        "turns": len(clean),
        "voice_to_voice_ms": figures["voice_to_voice"],
        "stages_ms": {k: v for k, v in figures.items() if k != "voice_to_voice"},
        "answer_accuracy": share([r.get("correct") for r in clean if "correct" in r], 3),
        "answer_accuracy_by_language": {
            lang: share([r.get("correct") for r in clean if "correct" in r and r["language"] == lang], 3)
            for lang in ("zh", "en")
        },
        "barge_in": {
            "trials": len(interrupts),
            "stop_ms": percentiles([r["stop_ms"] for r in interrupts if r["stop_ms"] is not None]),
            "yield_rate": share([r["yielded"] for r in interrupts if r["yielded"] is not None], 3),
            "not_speaking_at_onset": sum(1 for r in interrupts if r["stop_ms"] is None),
            "distractions": len(distracts),
            "false_yields": sum(1 for r in distracts if r["cut_answer"]),
            "paused_then_resumed": conversation.false_interruptions,
        },
        # model work done for turns already cancelled (barge-ins, questions merged): what was not saved
        "work_after_cancel_ms": {
            stage: round(sum(ms for s, ms in conversation.work.after_cancel if s == stage), 1)
            for stage in ("asr", "answer", "tts")
        },
        "calls_after_cancel": len(conversation.work.after_cancel),
        "paused_questions": {
            "asked": len(paused),
            "answered_as_one": share([r.get("correct") for r in paused], 3),
        },
        "rows": rows,
    }


def _turn_for(measured: list[Any], onset: float, end: float) -> Any:
    for m in measured:
        start = m.trace.events.get("speech_start_vad")
        vad_end = m.trace.events.get("vad_end")
        if start is not None and vad_end is not None and start - 0.4 <= onset <= vad_end and vad_end >= end:
            return m
    return None


def _was_interrupted(row: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    k = rows.index(row)
    return k + 1 < len(rows) and rows[k + 1]["kind"] == "interrupt"


def contains_facts(answer: str, question: Question) -> bool:
    text = compact(answer)
    return all(compact(f) in text for f in question.facts)


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    return write_report(report, out, markdown)


def markdown(report: dict[str, Any]) -> str:
    meta = report.get("meta", {})
    lines = [
        "# Spoken-turn benchmark",
        "",
        f"{meta.get('date', '')}, {meta.get('machine', '')}, device {meta.get('device', '')}",
        "",
        f"{report['turns']} clean turns; answer accuracy {report['answer_accuracy']} "
        f"(zh {report['answer_accuracy_by_language']['zh']}, en {report['answer_accuracy_by_language']['en']})",
        "",
    ]
    rows = {"voice_to_voice": report["voice_to_voice_ms"], **report["stages_ms"]}
    rows["barge_in_stop"] = report["barge_in"]["stop_ms"]
    lines += percentile_table(rows)
    b = report["barge_in"]
    lines += [
        "",
        f"Barge-in: {b['trials']} interruptions, yield rate {b['yield_rate']}; "
        f"{b['distractions']} backchannels/claps/noise, false yields {b['false_yields']}, "
        f"paused then resumed {b['paused_then_resumed']}.",
        "",
        f"Questions asked in two parts: {report['paused_questions']['asked']}, answered as one question "
        f"(with the facts asked for) {report['paused_questions']['answered_as_one']}.",
        "",
        f"Model work after a turn was cancelled ({report['calls_after_cancel']} calls, ms): "
        + ", ".join(f"{k} {v}" for k, v in report["work_after_cancel_ms"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def meta(device: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"date": today(), "machine": machine(), "device": device, **extra}
