"""The live room in a real browser: Debian's headless Chromium joins as a viewer and talks to the agent.

The agent is the real one (Whisper, the answer engine, both voices, VAD, end of turn), running in
a real `livehost serve` process and joining the room through signaling like any participant. The
question comes from Chromium's fake microphone, fed from a WAV file; what the test checks is
read from inside the page: the agent's audio arrived (WebAudio on the received track) and the
captions on its data channel hold the catalog fact.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from agent.audio import write_wav
from agent.tts.speaker import Speaker
from evals.room import WEBAUDIO_MIC, chromium, speak
from tests.conftest import running_server

pytestmark = pytest.mark.model
RATE = 48000
ADMIN = "room-test-admin"


@pytest.fixture(scope="module")
def say() -> Speaker:
    return Speaker.load(rate=RATE)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server("--composer", "catalog", env={"LIVEHOST_ADMIN_TOKEN": ADMIN}) as (url, _):
        deadline = time.monotonic() + 120
        while "agent" not in json.loads(urllib.request.urlopen(url + "/healthz").read())["rooms"].get("live", []):
            assert time.monotonic() < deadline, "the agent never joined the room"
            time.sleep(0.5)
        yield url


def viewer_url(server: str, name: str, **extra: str) -> str:
    reply = httpx.post(
        f"{server}/api/rooms/live/tokens",
        json={"role": "viewer", "name": name},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    query = "".join(f"&{k}={v}" for k, v in extra.items())
    return f"{server}{reply.json()['url']}&name={name}{query}"


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def wait_for(page, expression: str, timeout_s: float) -> object:  # type: ignore[no-untyped-def]
    page.wait_for_function(expression, timeout=timeout_s * 1000)
    return page.evaluate(expression)


def test_a_viewer_asks_aloud_in_the_browser_and_hears_a_grounded_answer(
    server: str, say: Speaker, tmp_path: Path
) -> None:
    question = say.synthesize("How many days does the SmartBand X2 battery last?", "en")
    wav = tmp_path / "question.wav"
    # lead-in: the microphone opens before the connection to the room is up
    write_wav(wav, np.concatenate([silence(3.0), question, silence(15.0)]), RATE)
    with chromium([f"--use-file-for-fake-audio-capture={wav}%noloop"]) as browser:
        page = browser.new_page()
        page.goto(viewer_url(server, "Alice", mic="open"))
        wait_for(page, "window.viewer && window.viewer.ready", 30)
        answered = (
            "window.viewer.captions.some(c => c.role === 'agent' && c.text.includes('14'))"
            " && window.viewer.agentLevel && window.viewer.agentLevel.peak > 0.05"
        )
        wait_for(page, answered, 90)
        seen = page.evaluate("({captions: window.viewer.captions, errors: window.viewer.errors})")
    heard = [c for c in seen["captions"] if c["role"] == "user" and c["final"]]
    assert heard and "x2" in heard[0]["text"].lower() and heard[0]["viewer_name"] == "Alice", seen
    assert not seen["errors"], seen


def test_talking_over_the_agent_in_the_browser_stops_it(server: str, say: Speaker) -> None:
    # the page's microphone is WebAudio here, so the test can speak at the moment the agent is heard
    # answering (the fake device plays its file on a fixed schedule)
    question = say.synthesize("Is the SmartBand X2 waterproof, and what does it cost?", "en")
    interruption = say.synthesize("Wait, wait, I want to ask about the desk lamp instead, please.", "en")
    with chromium() as browser:
        page = browser.new_page()
        page.add_init_script(WEBAUDIO_MIC)
        page.goto(viewer_url(server, "Bob", mic="open"))
        wait_for(page, "window.viewer && window.viewer.ready", 30)
        speak(page, question)
        wait_for(page, "window.viewer.agentLevel && window.viewer.agentLevel.firstLoud !== null", 90)
        time.sleep(0.6)  # the agent is mid-answer
        onset = speak(page, interruption)
        interruption_end = onset + 1000 * len(interruption) / RATE
        time.sleep(len(interruption) / RATE + 0.5)
        spans = page.evaluate("window.viewer.agentLevel.spans")
        captions = page.evaluate("window.viewer.captions")
    talking_at_onset = [s for s in spans if s[0] < onset]
    assert talking_at_onset and talking_at_onset[-1][1] > onset - 300, (onset, spans)
    # the answer stops soon after the viewer starts talking, and stays stopped while they talk
    stopped_at = talking_at_onset[-1][1]
    assert stopped_at - onset < 1500, (onset, spans, captions)
    assert not [s for s in spans if onset + 1500 < s[1] and s[0] < interruption_end], (onset, interruption_end, spans)
    assert any(c["role"] == "user" and "waterproof" in c["text"].lower() for c in captions), captions


def test_a_chat_question_is_answered_in_the_chat_and_aloud(server: str) -> None:
    from aiortc import RTCPeerConnection

    from agent.rtc.client import RoomClient

    async def run() -> tuple[list[dict], list[dict]]:
        token = httpx.post(
            f"{server}/api/rooms/live/tokens",
            json={"role": "viewer", "name": "Carol"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        ).json()["token"]
        client = RoomClient(server, "live", token)
        welcome = await client.connect()
        agent = next(p for p in welcome["participants"] if p["role"] == "agent")
        pc = RTCPeerConnection()  # listen to the agent: its voice and its captions
        pc.addTransceiver("audio", direction="recvonly")
        captions: list[dict] = []
        pc.createDataChannel("captions").on("message", lambda m: captions.append(json.loads(m)))
        await client.subscribe(agent["id"], pc)
        await asyncio.sleep(1.0)
        await client.send({"type": "chat", "text": "How much is the SmartBand X2?"})
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(e["type"] == "chat" and e["role"] == "agent" for e in seen):
            seen.append(await asyncio.wait_for(client.events.get(), 60))
        await asyncio.sleep(1.0)
        await pc.close()
        await client.close()
        return seen, captions

    seen, captions = asyncio.run(run())
    replies = [e for e in seen if e["type"] == "chat" and e["role"] == "agent"]
    assert replies and replies[0]["text"].startswith("@Carol ") and "199" in replies[0]["text"], seen
    spoken = [c["text"] for c in captions if c["type"] == "transcript" and c["role"] == "agent"]
    assert any("199" in text for text in spoken), captions  # the clause was played on the agent's voice
