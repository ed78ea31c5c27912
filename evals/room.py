"""Voice-to-voice at the listener, in the live room (`livehost bench-room`).

A real headless Chromium joins the room as a viewer, asks catalog questions aloud and listens to
the agent over real WebRTC. Every figure is read inside the page on one clock
(`performance.now()`): the question's speech ends at a known instant of its microphone, and the
answer counts from the first non-silent sample the page receives (WebAudio on the agent's
track, 10 ms resolution). The agent's own per-stage timings arrive on its captions channel.

The questions come from one WAV file on Chromium's fake microphone (`--use-file-for-fake-audio-capture`),
set apart by long gaps; each question ends where the page's own monitor of its microphone last heard
it. The barge-ins need to start at a moment the script picks, so for them the page's microphone is
WebAudio (the fake device plays its file on its own schedule); the path from there on (Opus, WebRTC,
the room's forwarding, the agent) is the one a viewer's microphone takes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fractions
import json
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

from agent.audio import to_pcm16, voiced_span, write_wav
from evals.faq import Question
from evals.report import percentile_table, write_report
from evals.stats import percentiles
from evals.voice import contains_facts, meta

RATE = 48000
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
FILE_LEAD_S = 4.0  # the microphone opens before the connection to the room is up
FILE_GAP_S = 12.0  # after each question: room for the answer before the next one
QUIET_MS = 1500  # the agent has finished when it has been silent this long
ANSWER_TIMEOUT_S = 25.0

# the page's microphone: a WebAudio stream the script speaks into with `window.speak(base64 PCM16)`
WEBAUDIO_MIC = """
(() => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const out = ctx.createMediaStreamDestination();
  window.speak = (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const pcm = new Int16Array(bytes.buffer);
    const buffer = ctx.createBuffer(1, pcm.length, 48000);
    buffer.getChannelData(0).set(Float32Array.from(pcm, (v) => v / 32768));
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(out);
    const at = performance.now() + (ctx.outputLatency || 0) * 1000;
    source.start();
    return at;
  };
  navigator.mediaDevices.getUserMedia = async () => { await ctx.resume(); return out.stream; };
})();
"""


class Microphone(MediaStreamTrack):
    """A participant's microphone for aiortc peers: 20 ms frames at 48 kHz, silence unless `say` queued audio."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.pts = 0
        self.start: float | None = None
        self.queued = np.zeros(0, dtype=np.float32)

    def say(self, audio: np.ndarray) -> None:
        self.queued = np.concatenate([self.queued, audio.astype(np.float32)])

    async def recv(self) -> av.AudioFrame:
        if self.start is None:
            self.start = time.monotonic()
        await asyncio.sleep(max(0.0, self.start + self.pts / RATE - time.monotonic()))
        step = RATE // 50
        chunk, self.queued = self.queued[:step], self.queued[step:]
        frame = av.AudioFrame(format="s16", layout="mono", samples=step)
        frame.planes[0].update(to_pcm16(np.pad(chunk, (0, step - len(chunk)))))
        frame.sample_rate, frame.pts, frame.time_base = RATE, self.pts, fractions.Fraction(1, RATE)
        self.pts += step
        return frame


@contextlib.contextmanager
def chromium(flags: list[str] | None = None) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; yields the browser."""
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("Debian's chromium is not installed (make browser installs it)")
    with sync_playwright() as manager:
        browser = manager.chromium.launch(executable_path=path, headless=True, args=FLAGS + (flags or []))
        try:
            yield browser
        finally:
            browser.close()


def speak(page: Any, audio: np.ndarray) -> float:
    """Play `audio` (48 kHz) into the page's WebAudio microphone; returns when it starts, page clock."""
    return float(page.evaluate(f"window.speak('{base64.b64encode(to_pcm16(audio)).decode()}')"))


def agent_spans(page: Any) -> list[list[float]]:
    return list(page.evaluate("window.viewer.agentLevel ? window.viewer.agentLevel.spans : []"))


def wait_quiet(page: Any, timeout_s: float = ANSWER_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        last = page.evaluate("window.viewer.agentLevel && window.viewer.agentLevel.lastLoud")
        now = page.evaluate("performance.now()")
        if last is None or now - last > QUIET_MS:
            return
        time.sleep(0.1)


def first_sound_after(page: Any, after: float, timeout_s: float = ANSWER_TIMEOUT_S) -> float | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        starts = [s[0] for s in agent_spans(page) if s[0] > after]
        if starts:
            return min(starts)
        time.sleep(0.02)
    return None


def turn_messages(page: Any, since: float) -> list[dict[str, Any]]:
    messages = page.evaluate(f"window.viewer.messages.filter(m => m.type === 'turn' && m.at > {since})")
    return list(messages)


def ask_from_file(
    viewer_url: str, questions: list[Question], say: Callable[[str, str], np.ndarray], progress: bool = True
) -> list[dict[str, Any]]:
    """All questions from one WAV file on Chromium's fake microphone, as the issue defines it: each
    question's end is where the page's own microphone monitor last heard it, and its answer is the
    first agent sample the page receives after that."""
    audios = [say(q.question, q.lang) for q in questions]
    gap = np.zeros(int(FILE_GAP_S * RATE), dtype=np.float32)
    track = np.concatenate(
        [np.zeros(int(FILE_LEAD_S * RATE), dtype=np.float32)] + [np.concatenate([a, gap]) for a in audios]
    )
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "questions.wav"
        write_wav(wav, track, RATE)
        with chromium([f"--use-file-for-fake-audio-capture={wav}%noloop"]) as browser:
            page = browser.new_page()
            page.goto(viewer_url + "&mic=open&name=bench")
            page.wait_for_function("window.viewer && window.viewer.ready && window.viewer.micLevel", timeout=60000)
            frames = "document.getElementById('agent-video').getVideoPlaybackQuality().totalVideoFrames"
            first_frames, first_at = page.evaluate(frames), time.monotonic()
            played = FILE_LEAD_S
            for k, audio in enumerate(audios):  # the file plays on its own; report as it goes
                played += len(audio) / RATE + FILE_GAP_S
                time.sleep(max(0.0, first_at + played - time.monotonic()))
                if progress:
                    print(f"[{k + 1}/{len(questions)}] asked: {questions[k].question}")
            fps = (page.evaluate(frames) - first_frames) / (time.monotonic() - first_at)
            mic = page.evaluate("window.viewer.micLevel.spans")
            agent = agent_spans(page)
            turns = turn_messages(page, 0)
    rows = file_rows(questions, mic, agent, turns)
    if rows:
        rows[0]["avatar_fps"] = round(fps, 1)
    return rows


def file_rows(
    questions: list[Question], mic: list[list[float]], agent: list[list[float]], turns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each question (a group of microphone sound spans set apart by the long gaps) with its answer."""
    groups: list[list[float]] = []
    for start, end in mic:
        if groups and start - groups[-1][1] < 1000 * FILE_GAP_S / 2:
            groups[-1][1] = end
        else:
            groups.append([start, end])
    rows = []
    for k, question in enumerate(questions):
        if k >= len(groups):
            rows.append({"id": question.id, "lang": question.lang, "question": question.question,
                         "status": "not heard by the page", "correct": False, "voice_to_voice_ms": None,
                         "stages_ms": {}, "transcript": "", "answer": ""})  # fmt: skip
            continue
        end = groups[k][1]
        until = groups[k + 1][0] if k + 1 < len(groups) else float("inf")
        heard = min((s[0] for s in agent if end < s[0] < until), default=None)
        answered = [t for t in turns if end < t["at"] < until + 1000 and t.get("status") not in ("merged", "cancelled")]
        turn = answered[0] if answered else {}
        rows.append({
            "id": question.id,
            "lang": question.lang,
            "question": question.question,
            "transcript": turn.get("transcript", ""),
            "answer": turn.get("answer", ""),
            "status": turn.get("status", "no answer"),
            "correct": bool(turn) and contains_facts(turn.get("answer", ""), question),
            "voice_to_voice_ms": None if heard is None else round(heard - end, 1),
            "stages_ms": turn.get("timings_ms", {}),
        })  # fmt: skip
    return rows


def barge_in(page: Any, question: np.ndarray, interruption: np.ndarray, offset_ms: float) -> float | None:
    """Talk over the answer `offset_ms` after it is first heard; how long until the page hears it stop."""
    wait_quiet(page)
    start = speak(page, question)
    heard = first_sound_after(page, start + 1000 * len(question) / RATE)
    if heard is None:
        return None
    while page.evaluate("performance.now()") < heard + offset_ms:
        time.sleep(0.01)
    onset = speak(page, interruption) + 1000 * voiced_span(interruption, RATE)[0] / RATE
    time.sleep(len(interruption) / RATE + 0.3)
    talking = [s for s in agent_spans(page) if s[0] < onset and s[1] >= onset - 30]
    return round(talking[-1][1] - onset, 1) if talking else None


def run(
    viewer_url: str,
    questions: list[Question],
    say: Callable[[str, str], np.ndarray],
    barge_ins: int = 5,
    progress: bool = True,
) -> dict[str, Any]:
    rows = ask_from_file(viewer_url, questions, say, progress)
    stops: list[float] = []
    missed_stops = 0
    fps = rows[0].pop("avatar_fps", None) if rows else None
    with chromium() as browser:
        page = browser.new_page()
        page.add_init_script(WEBAUDIO_MIC)
        page.goto(viewer_url + "&mic=open&name=bench")
        page.wait_for_function("window.viewer && window.viewer.ready && window.viewer.agentLevel", timeout=60000)
        long_question = say("Is the SmartBand X2 waterproof, and what does it cost?", "en")
        interruption = say("Sorry, one more thing about the desk lamp please.", "en")
        for k in range(barge_ins):
            stop = barge_in(page, long_question, interruption, 400 + 300 * (k % 4))
            if stop is None:
                missed_stops += 1
            else:
                stops.append(stop)
            if progress:
                print(f"[barge-in {k + 1}/{barge_ins}] stopped after {stop} ms")
    v2v = [r["voice_to_voice_ms"] for r in rows if r["voice_to_voice_ms"] is not None]
    stages = {
        name: percentiles([r["stages_ms"][name] for r in rows if r["stages_ms"].get(name) is not None])
        for name in ("endpointing", "asr", "llm_first_sentence", "tts", "server_response")
    }
    return {
        "turns": len(rows),
        "voice_to_voice_ms": percentiles(v2v),
        "stages_ms": stages,
        "answer_accuracy": round(sum(r["correct"] for r in rows) / len(rows), 3) if rows else None,
        "no_answer": sum(1 for r in rows if r["voice_to_voice_ms"] is None),
        "barge_in": {"trials": barge_ins, "stop_ms": percentiles(stops), "not_measured": missed_stops},
        "avatar_fps_at_page": fps,
        "rows": rows,
    }


def markdown(report: dict[str, Any]) -> str:
    m = report.get("meta", {})
    lines = [
        "# Voice-to-voice at the listener (browser, WebRTC room)",
        "",
        f"{m.get('date', '')}, {m.get('machine', '')}, {m.get('browser', '')}",
        "",
        f"{report['turns']} turns, answer accuracy {report['answer_accuracy']}, no answer {report['no_answer']}",
        "",
    ]
    rows = {"voice_to_voice (page)": report["voice_to_voice_ms"], **report["stages_ms"]}
    rows["barge_in_stop (page)"] = report["barge_in"]["stop_ms"]
    lines += percentile_table(rows)
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    return write_report(report, out, markdown)


def wait_for_agent(url: str, room: str, timeout_s: float = 240.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            health = json.loads(urllib.request.urlopen(url + "/healthz", timeout=2).read())
            if "agent" in health.get("rooms", {}).get(room, []):
                return
        time.sleep(0.5)
    raise RuntimeError(f"the agent did not join room '{room}' at {url} within {timeout_s:.0f} s")


def report_meta(extra: dict[str, Any]) -> dict[str, Any]:
    return meta("cpu", {"browser": "Debian chromium, headless, Playwright", **extra})
