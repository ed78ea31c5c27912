"""Spoken turns with the real models: Whisper, the answer engine, both voices, VAD and end-of-turn.

Questions are synthesized with the project's own voices (no offline Chinese speech with
transcripts exists); the English ASR is also tested on real speech in test_asr.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from agent.app import build
from agent.app.host import Host, HostOptions
from agent.app.voice import VoiceModels, VoiceOptions
from agent.audio import RATE, read_wav, to_pcm16, voiced_span, write_wav
from agent.transports.recorded import converse, talk_report
from agent.tts.speaker import Speaker
from tests.conftest import running_server

pytestmark = pytest.mark.model
NOISE = Path(".cache/testdata/alsa/usr/share/sounds/alsa/Noise.wav")


@pytest.fixture(scope="module")
def host() -> Host:
    return build.host(HostOptions(composer="catalog"))


@pytest.fixture(scope="module")
def voice(host: Host) -> VoiceModels:
    models = build.voice_models(VoiceOptions(), host.catalog.current.catalog)
    models.warm()
    return models


@pytest.fixture(scope="module")
def say(voice: VoiceModels) -> Speaker:
    return Speaker(voice.speaker.voices, RATE)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


@pytest.mark.parametrize(
    ("question", "language", "fact"),
    [
        ("How many days does the SmartBand X2 battery last?", "en", "14"),
        ("台灯底座能给手机无线充电吗?", "zh", "无线充电"),
    ],
)
def test_a_spoken_question_gets_a_spoken_answer_with_the_catalog_fact(
    host: Host, voice: VoiceModels, say: Speaker, question: str, language: str, fact: str
) -> None:
    viewer = np.concatenate([silence(0.4), say.synthesize(question, language), silence(0.2)])
    conversation, recording, measured = asyncio.run(converse(voice.stages(host.engine, 24000), viewer))
    report = talk_report(measured, recording)
    assert report["language"] == language, report
    assert report["status"] == "answered", report
    assert fact in report["answer"], report
    timings = report["timings_ms"]
    assert timings["voice_to_voice"] is not None and timings["voice_to_voice"] > 0
    assert all(timings[k] is not None for k in ("endpointing", "asr", "tts", "llm_first_sentence"))
    # what the listener got is speech in the answer's language, not silence
    heard = recording.agent[recording.agent_sample(recording.start) :]
    assert np.abs(heard).max() > 0.1
    assert conversation.history[-1].role == "agent" and fact in conversation.history[-1].text


def test_talking_over_the_agent_stops_it_and_history_ends_where_playback_stopped(
    host: Host, voice: VoiceModels, say: Speaker
) -> None:
    question = say.synthesize("What is the price of the RoboVac S7 and does it have a mop?", "en")
    interruption = say.synthesize("Wait, is the SmartBand X2 waterproof?", "en")
    viewer = np.concatenate([silence(0.3), question, silence(6.0)])

    async def run() -> tuple:
        from agent.session.conversation import Conversation
        from agent.transports.replay import replay

        conversation = Conversation(voice.stages(host.engine, RATE))
        conversation.start()
        heard_frames = [0]
        onset: list[int] = []

        def listener(i: int, agent: np.ndarray) -> np.ndarray | None:
            heard_frames[0] += bool(np.abs(agent).max() > 0.003)
            if heard_frames[0] == 75 and not onset:  # 1.5 s into the answer
                onset.append(i * RATE // 50)
                return interruption
            return None

        recording = await replay(conversation, viewer, tail_s=1.5, viewer_next=listener)
        await conversation.close()
        return conversation, recording, onset

    conversation, recording, (start,) = asyncio.run(run())
    first, last = voiced_span(recording.viewer[start:], RATE)
    onset_t = recording.viewer_time(start + first)
    stopped = recording.last_heard(onset_t - 1.0, recording.viewer_time(start + last))
    assert stopped is not None and stopped - onset_t < 0.4, stopped - onset_t
    cut = conversation.turns[0]
    assert cut.interrupted and cut.heard and len(cut.heard) < len(cut.answer)
    agent_lines = [m for m in conversation.history if m.role == "agent"]
    assert agent_lines[0].text == cut.heard and agent_lines[0].interrupted
    assert "waterproof" in conversation.turns[1].transcript.lower()


@pytest.mark.skipif(not NOISE.exists(), reason="make testdata unpacks Debian's alsa-utils noise sample")
def test_a_noise_burst_during_the_answer_does_not_stop_it(host: Host, voice: VoiceModels, say: Speaker) -> None:
    noise = read_wav(NOISE)[:RATE] * 0.5
    question = say.synthesize("How long does the SmartBand X2 battery last?", "en")
    viewer = np.concatenate([silence(0.3), question, silence(2.6), noise, silence(4.0)])
    conversation, recording, measured = asyncio.run(converse(voice.stages(host.engine, RATE), viewer))
    (turn,) = [m.trace for m in measured]
    assert not turn.interrupted and turn.heard == turn.answer


def test_talk_command_reads_a_wav_and_writes_the_answer(tmp_path: Path, say: Speaker) -> None:
    question = tmp_path / "question.wav"
    write_wav(question, np.concatenate([silence(0.3), say.synthesize("How much is the SmartBand X2?", "en")]), RATE)
    out = tmp_path / "answer.wav"
    cmd = [sys.executable, "-m", "agent", "talk", "--composer", "catalog", "--in", str(question)]
    done = subprocess.run([*cmd, "--out", str(out), "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "answered" and "SmartBand X2" in report["answer"]
    assert report["timings_ms"]["voice_to_voice"] > 0
    assert len(read_wav(out)) > RATE  # more than a second of answer


def test_talk_rejects_a_file_that_is_not_audio_in_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "question.wav"
    bad.write_text("not audio")
    cmd = [sys.executable, "-m", "agent", "talk", "--in", str(bad), "--out", str(tmp_path / "a.wav")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "not a PCM WAV file" in done.stderr


def test_the_pcm_websocket_holds_a_spoken_conversation(say: Speaker) -> None:
    from websockets.sync.client import connect

    # the client stops streaming after its question, like a push-to-talk button: the agent still answers
    question = np.concatenate([say.synthesize("How long does the SmartBand X2 battery last?", "en"), silence(0.2)])
    env = {"LIVEHOST_ADMIN_TOKEN": "admin-t"}
    # loopback: no token needed
    with running_server("--composer", "catalog", "--open-pcm", "--log-format", "json", env=env) as (url, proc):
        ws_url = url.replace("http", "ws") + "/ws/pcm"
        with connect(ws_url, max_size=None) as ws:
            ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
            ws.send(b"\x01")  # a malformed frame is reported, not fatal
            assert "even number of bytes" in json.loads(ws.recv(timeout=10))["error"]
            step = RATE // 50
            for i in range(0, len(question), step):
                ws.send(to_pcm16(question[i : i + step]))
                time.sleep(0.02)
            audio, texts = bytearray(), []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    message = ws.recv(timeout=1)
                except TimeoutError:
                    if audio:
                        break  # the answer has been played out
                    continue
                if isinstance(message, bytes):
                    audio.extend(message)
                else:
                    texts.append(json.loads(message))
            user = [t["text"] for t in texts if t.get("type") == "transcript" and t["role"] == "user" and t["final"]]
            agent = [t["text"] for t in texts if t.get("type") == "transcript" and t["role"] == "agent"]
            assert user and "x2" in user[0].lower()
            assert agent and "14" in " ".join(agent)
            assert len(audio) > 0.3 * RATE * 2
        with connect(ws_url + "?sample_rate=12345") as ws:
            assert "sample_rate must be one of" in json.loads(ws.recv(timeout=10))["error"]
        # the turn is counted and timed for Prometheus, and logged as one JSON record with its id
        scrape = urllib.request.Request(url + "/metrics", headers={"Authorization": "Bearer admin-t"})
        metrics = urllib.request.urlopen(scrape, timeout=10).read().decode()
        assert 'livehost_turns_total{status="answered"} 1' in metrics
        assert 'livehost_turn_stage_seconds_bucket{stage="asr",le="+Inf"} 1' in metrics
        assert "process_resident_memory_bytes" in metrics
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    turns = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"turn"' in line]
    assert turns and turns[0]["turn"].startswith("c") and "14" in turns[0]["record"]["answer"]
