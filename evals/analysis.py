"""Every figure of a run, read off the recorded tracks (shared/docs/latency.md).

- The viewer's speech edges are the stimulus's own (the clean clip, before the channel), placed
  where the session played it: the true `speech_end`.
- The agent's speech is found by `evals.activity` in what the listener received. Segments less
  than `ANSWER_GAP_S` apart are one utterance (one answer); each turn that expects a reply claims,
  in order, the first unclaimed utterance that starts after its speech began.
- voice-to-voice = the reply's first audible sample - true speech end (negative: the agent talked
  over the viewer). Stages come from the agent's own turn records, matched to the reply; the
  `transport` stage is what they do not explain (v2v - endpointing - server response: uplink,
  downlink, jitter buffers).
- barge-in stop = end of the agent's speech under way at the interruption's onset - that onset; a
  yield is a stop within the turn's `max_stop_ms` (2 s) without the agent resuming while the viewer
  still talks. An `ignore` sound during an answer is a false yield when the agent stops within
  `IGNORE_STOP_S` and stays silent for `RESUME_S`; a false pause when it stops and resumes.
  An `ignore` sound in silence that gets a reply is a spurious response.
- talk-over: agent speech that starts while the viewer of a replying turn is still speaking.
- WER: the agent's reported transcript of the viewer against the turn's reference text.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from agent.audio import RATE
from evals.activity import BargeInStop, Segment, barge_in_stop, segments
from evals.judge import Judge
from evals.scenario import GRADED, RESPONDS, Assertion
from evals.session import Played, Recording
from evals.stats import distribution, share, yielded
from evals.wer import error_rate

ANSWER_GAP_S = 0.6
NAMED_GAP_S = 3.0  # pieces of speech the agent's records say were for the same viewer: one answer
IGNORE_STOP_S = 1.0
RESUME_S = 1.5
STAGES = ("endpointing", "asr", "llm_first_token", "llm_first_sentence", "tts", "playout_wait", "server_response")
EPS = 1e-6


@dataclass
class TurnResult:
    id: str
    viewer: str
    channel: str
    expect: str
    trigger: str
    start_s: float
    speech_start_s: float | None
    speech_end_s: float | None
    passed: bool = False
    notes: list[str] = field(default_factory=list)
    responded: bool | None = None
    reply_start_s: float | None = None
    reply_end_s: float | None = None
    voice_to_voice_ms: float | None = None
    talk_over_ms: float = 0.0
    stages_ms: dict[str, float] = field(default_factory=dict)
    agent_speaking: bool | None = None  # stop and ignore turns: was the agent talking at their onset
    stopped: bool | None = None
    stop_ms: float | None = None
    false_yield: bool | None = None
    false_pause: bool | None = None
    spurious: bool | None = None
    heard: str | None = None  # the reply as transcribed at the listener
    agent_said: str | None = None  # the reply as the agent reported it
    heard_agrees: bool | None = None  # the heard reply matched the agent's text (which then settled mishearings)
    correct: bool | None = None
    hallucination: bool | None = None
    transcript: str | None = None  # what the agent reported hearing from the viewer
    reference: str | None = None


def analyze(recording: Recording, judge: Judge | None) -> list[TurnResult]:
    found = segments(recording.agent, RATE)
    turn_records = [s for s in recording.messages if s.message.get("type") == "turn" and s.message.get("heard")]
    utterances = _utterances(found, turn_records, recording.agent)
    claimed: set[int] = set()
    used_records: set[int] = set()
    results = []
    for k, p in enumerate(recording.played):
        following = recording.played[k + 1].start if k + 1 < len(recording.played) else recording.duration
        r = _turn(p, following, found, utterances, claimed, recording)
        if r.reply_start_s is not None:
            _match_record(r, turn_records, used_records)
        same_viewer = [q.start for q in recording.played[k + 1 :] if q.turn.viewer == p.turn.viewer]
        _transcript(r, p, min(same_viewer, default=recording.duration), recording)
        results.append(r)
    cuts = [(p.speech_start, p.turn.id) for p in recording.played if p.turn.expect == "stop" and p.speech_start]
    for r, p in zip(results, recording.played, strict=True):
        if judge is None or r.reply_start_s is None or r.reply_end_s is None or not p.turn.graded:
            continue
        cut = next((who for at, who in cuts if r.reply_start_s < at < r.reply_end_s), None)
        if cut is not None:  # the viewer cut it short on purpose: what was heard is not the whole answer
            r.notes.append(f"interrupted by {cut}, so not graded")
            continue
        _grade(r, p, recording, judge, _answer_end(r, results, recording))
    return results


def _answer_end(r: TurnResult, results: list[TurnResult], recording: Recording) -> float:
    """Where the answer to `r` stops being graded: the next reply, or the next turn that is not a sound
    to ignore (an answer paused by a cough and resumed is still one answer)."""
    assert r.reply_start_s is not None
    later = [x.reply_start_s for x in results if x.reply_start_s is not None and x.reply_start_s > r.reply_start_s]
    later += [
        q.speech_start
        for q in recording.played
        if q.turn.expect != "ignore" and q.speech_start is not None and q.speech_start > r.reply_start_s
    ]
    return min(later, default=recording.duration)


@dataclass(frozen=True)
class Utterance(Segment):
    addressee: str | None = None  # the viewer it answers, where the agent's records name one


def _utterances(found: list[Segment], records: list[Any], agent: np.ndarray) -> list[Utterance]:
    """Speech segments joined into answers. In a room with several viewers, answers played back to back
    are told apart by whom each was for: the agent's record of an answer arrives about when it ends and
    names the viewer, so the agent's audio is cut at the quietest moment near each arrival, and what
    lies before a cut is that record's viewer's (only the attribution comes from the agent; the timing
    and the words are the audio's)."""
    cuts = sorted((_quietest(agent, r.at), r.message["viewer_name"]) for r in records if r.message.get("viewer_name"))
    pieces: list[Utterance] = []
    for s in found:
        edges = [s.start, *(t for t, _ in cuts if s.start < t < s.end), s.end]
        for a, b in itertools.pairwise(edges):
            who = next((viewer for t, viewer in cuts if t >= b - 0.02), None)
            pieces.append(Utterance(a, b, who))
    out: list[Utterance] = []
    for u in pieces:
        last = out[-1] if out else None
        if last is None:
            out.append(u)
            continue
        known_same = u.addressee is not None and u.addressee == last.addressee
        same = known_same or u.addressee is None or last.addressee is None
        if same and u.start - last.end < (NAMED_GAP_S if known_same else ANSWER_GAP_S):
            out[-1] = Utterance(last.start, u.end, last.addressee or u.addressee)
        else:
            out.append(u)
    return out


def _quietest(agent: np.ndarray, at: float, reach_s: float = 0.4) -> float:
    """The quietest 10 ms within `reach_s` of `at` (the nearest one of equals), in session seconds."""
    hop = RATE // 100
    first = max(0, int((at - reach_s) * RATE) // hop)
    frames = agent[first * hop : int((at + reach_s) * RATE) // hop * hop]
    if len(frames) < hop:
        return at
    rms = np.sqrt(np.mean(np.square(frames.reshape(-1, hop), dtype=np.float64), axis=1))
    times = (first + np.arange(len(rms)) + 0.5) * hop / RATE
    quiet = np.flatnonzero(rms <= rms.min() + 1e-6)
    return float(times[quiet[np.argmin(np.abs(times[quiet] - at))]])


def _turn(
    p: Played,
    following: float,
    found: list[Segment],
    utterances: list[Utterance],
    claimed: set[int],
    recording: Recording,
) -> TurnResult:
    turn = p.turn
    r = TurnResult(
        turn.id, turn.viewer, turn.channel, turn.expect, p.trigger, round(p.start, 3),
        _r(p.speech_start), _r(p.speech_end), reference=turn.reference,
    )  # fmt: skip
    if p.trigger == "timeout":
        r.notes.append(f"started on timeout: its anchor '{turn.start.after}' never came")
    onset = p.speech_start if p.speech_start is not None else p.start
    end = p.speech_end if p.speech_end is not None else p.start
    if p.speech_start is None and turn.channel == "voice":
        r.notes.append("the turn's audio has no sound in it")
    stop = barge_in_stop(found, onset, end, EPS)
    under_way = stop.under_way
    if turn.responds or turn.expect == "ignore":
        k = next(
            (i for i, u in enumerate(utterances)
             if i not in claimed and u.addressee in (None, turn.viewer)
             and u.start > onset + EPS and u.start <= end + turn.response_timeout_ms / 1000
             and not (under_way is not None and u.start <= under_way.end)),
            None,
        )  # fmt: skip
        if turn.expect == "ignore":  # a sound in silence can draw a reply; during an answer it claims nothing
            k = k if k is not None and under_way is None and utterances[k].start < following else None
        if k is not None:
            claimed.add(k)
            reply = utterances[k]
            r.responded = True
            r.reply_start_s, r.reply_end_s = _r(reply.start), _r(reply.end)
            r.voice_to_voice_ms = _ms(reply.start - end)
            if reply.start < end:
                r.talk_over_ms = _ms(min(reply.end, end) - reply.start)
        else:
            r.responded = False
    if turn.expect in ("stop", "ignore"):
        r.agent_speaking = under_way is not None
    if turn.expect == "stop":
        _stop(r, p, stop, recording.duration)
    elif turn.expect == "ignore":
        _ignore(r, under_way, onset, found, recording.next_sound(p))
    elif turn.responds:
        r.passed = bool(r.responded)
        if not r.responded:
            r.notes.append(f"no reply within {turn.response_timeout_ms:g} ms of the end of the turn")
    return r


def _stop(r: TurnResult, p: Played, stop: BargeInStop, length: float) -> None:
    under_way = stop.under_way
    if under_way is None:
        r.notes.append("the agent was not speaking when the interruption began: nothing to stop")
        return
    if under_way.end >= length - 0.05:
        r.notes.append("the agent was still speaking when the recording ended")
        r.stopped = False
        return
    r.stop_ms, resumed = stop.ms, stop.resumed
    r.stopped = yielded(r.stop_ms, resumed, p.turn.max_stop_ms)
    if resumed:
        r.notes.append("the agent went on talking while the viewer was still speaking")
    elif not r.stopped:
        r.notes.append(f"the agent kept talking {r.stop_ms:g} ms into the interruption")
    r.passed = bool(r.stopped) and (r.responded is not False)


def _ignore(r: TurnResult, under_way: Segment | None, onset: float, found: list[Segment], next_sound: float) -> None:
    """`next_sound`: when the next turn's sound began; a stop after that is the next turn's doing."""
    if under_way is None:
        r.spurious = bool(r.responded)
        r.false_yield = r.false_pause = False
        if r.spurious:
            r.notes.append("the agent answered a sound that was not a question")
    else:
        stopped = under_way.end - onset <= IGNORE_STOP_S and under_way.end <= next_sound
        resumed = any(under_way.end < s.start <= under_way.end + RESUME_S for s in found)
        r.false_yield = stopped and not resumed
        r.false_pause = stopped and resumed
        r.spurious = False
        r.responded = None  # during an answer a sound claims no reply (see `_turn`)
        if r.false_yield:
            r.notes.append(
                f"the agent stopped {_ms(under_way.end - onset):g} ms after a sound that was not an interruption "
                "(an answer ending naturally this close would look the same)"
            )
        elif r.false_pause:
            r.notes.append("the agent paused at the sound, then went on")
    r.passed = not (r.spurious or r.false_yield)


def _match_record(r: TurnResult, records: list[Any], used: set[int]) -> None:
    """The agent's own record of the reply: the first unused one that arrived once the reply began,
    for this viewer when the transport says whose turn each record is."""
    assert r.reply_start_s is not None
    for i, said in enumerate(records):
        m = said.message
        if i in used or said.at < r.reply_start_s - EPS or m.get("viewer_name", r.viewer) != r.viewer:
            continue
        used.add(i)
        timings = m.get("timings_ms") or {}
        r.stages_ms = {k: float(v) for k, v in timings.items() if k in STAGES and v is not None}
        r.agent_said = m.get("heard") or m.get("answer")
        if r.voice_to_voice_ms is not None and {"endpointing", "server_response"} <= set(r.stages_ms):
            rest = r.voice_to_voice_ms - r.stages_ms["endpointing"] - r.stages_ms["server_response"]
            r.stages_ms["transport"] = round(rest, 1)
        return


def _grade(r: TurnResult, p: Played, recording: Recording, judge: Judge, end: float) -> None:
    assert r.reply_start_s is not None
    a, b = int(r.reply_start_s * RATE), int(end * RATE)
    audio = recording.agent[max(0, a - RATE // 10) : b]
    heard = judge.hear(audio, p.turn.lang)
    verdict = judge.grade(heard, p.turn.expect, p.turn.facts, p.turn.forbid, r.agent_said)
    r.heard, r.correct, r.hallucination = verdict.heard, verdict.correct, verdict.hallucination
    r.heard_agrees = verdict.agreed
    r.notes += verdict.problems
    r.passed = r.passed and verdict.correct


def _transcript(r: TurnResult, p: Played, following: float, recording: Recording) -> None:
    texts = [
        s.message.get("text", "")
        for s in recording.messages
        if s.message.get("type") == "transcript" and s.message.get("role") == "user" and s.message.get("final")
        and p.start - EPS <= s.at < following and s.message.get("viewer_name", p.turn.viewer) == p.turn.viewer
    ]  # fmt: skip
    if texts:
        r.transcript = " ".join(texts)
    if p.turn.expect == "transcribe":
        r.passed = r.transcript is not None
        if r.transcript is None:
            r.notes.append("the agent reported no transcript of this turn")


def summarize(results: list[TurnResult]) -> dict[str, Any]:
    voice = [r for r in results if r.channel == "voice"]
    replies = [r for r in voice if r.expect in RESPONDS]
    stops = [r for r in results if r.expect == "stop" and r.stopped is not None]
    ignores = [r for r in results if r.expect == "ignore"]
    graded = [r for r in results if r.correct is not None or (r.responded is False and r.expect in GRADED)]
    wer_pairs = [(r.reference, r.transcript or "") for r in voice if r.reference and r.expect != "ignore"]
    stage_names = dict.fromkeys(n for r in replies for n in r.stages_ms)
    return {
        "turns": len(results),
        "turns_passed": sum(r.passed for r in results),
        "voice_to_voice_ms": distribution([r.voice_to_voice_ms for r in replies if r.voice_to_voice_ms is not None]),
        "chat_to_voice_ms": distribution(
            [r.voice_to_voice_ms for r in results if r.channel == "chat" and r.voice_to_voice_ms is not None]
        ),
        "stages_ms": {n: distribution([r.stages_ms[n] for r in replies if n in r.stages_ms]) for n in stage_names},
        "barge_in_stop_ms": distribution([r.stop_ms for r in stops if r.stop_ms is not None]),
        "barge_ins": len(stops),
        "yield_rate": share([bool(r.stopped) for r in stops]),
        "distractions": sum(1 for r in ignores if r.agent_speaking),
        "false_yields": sum(bool(r.false_yield) for r in ignores),
        "false_pauses": sum(bool(r.false_pause) for r in ignores),
        "spurious_responses": sum(bool(r.spurious) for r in ignores),
        "missed_responses": sum(1 for r in results if r.responded is False and r.expect != "ignore"),
        "talk_overs": sum(1 for r in replies if r.talk_over_ms > 0),
        "talk_over_ms": round(sum(r.talk_over_ms for r in replies), 1),
        "answer_accuracy": share([bool(r.correct) for r in graded]),
        "hallucinations": sum(bool(r.hallucination) for r in results),
        "wer": round(error_rate(wer_pairs), 4) if wer_pairs else None,
    }


def check(assertions: tuple[Assertion, ...], summary: dict[str, Any]) -> list[dict[str, Any]]:
    from evals.compare import flatten

    flat = flatten(summary)
    out: list[dict[str, Any]] = []
    for a in assertions:
        if a.metric not in flat:
            out.append({"expr": a.expr, "actual": None, "passed": False, "error": f"no metric called {a.metric}"})
            continue
        actual = flat[a.metric]
        out.append({"expr": a.expr, "actual": actual, "passed": a.holds(actual)})
    return out


def rows(results: list[TurnResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]


def _r(t: float | None) -> float | None:
    return None if t is None else round(t, 3)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
