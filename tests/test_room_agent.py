"""The live room in a real browser: Debian's headless Chromium joins as a viewer and talks to the agent.

The agent is the real one (Whisper, the answer engine, both voices, VAD, end of turn), running in
a real `livehost serve` process and joining the room through signaling like any participant. The
question comes from Chromium's fake microphone, fed from a WAV file; what the test checks is
read from inside the page: the agent's audio arrived (WebAudio on the received track) and the
captions on its data channel hold the catalog fact.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import pytest

from agent.app import build
from agent.audio import write_wav
from agent.tts.speaker import Speaker
from evals.room import WEBAUDIO_MIC, Microphone, chromium, speak
from tests.conftest import running_server

pytestmark = pytest.mark.model
RATE = 48000
T = TypeVar("T")
ADMIN = "room-test-admin"


@pytest.fixture(scope="module")
def say() -> Speaker:
    return build.speaker(rate=RATE)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server("--composer", "catalog", env={"LIVEHOST_ADMIN_TOKEN": ADMIN}) as (url, _):
        deadline = time.monotonic() + 120
        while "agent" not in json.loads(urllib.request.urlopen(url + "/healthz").read())["rooms"].get("live", []):
            assert time.monotonic() < deadline, "the agent never joined the room"
            time.sleep(0.5)
        yield url


def minted(server: str, role: str, name: str = "") -> dict:
    """A token (and its page URL) from the running server, as the host would mint one."""
    reply = httpx.post(
        f"{server}/api/rooms/live/tokens",
        json={"role": role, "name": name},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    return dict(reply.json())


def viewer_url(server: str, name: str, **extra: str) -> str:
    query = "".join(f"&{k}={v}" for k, v in extra.items())
    return f"{server}{minted(server, 'viewer', name)['url']}&name={name}{query}"


def off_the_page(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine while Playwright's sync API holds this thread's event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def listen_to_agent(client: Any) -> tuple[Any, list[dict]]:
    """Subscribe `client` to the agent: its voice, and its captions collected into the returned list."""
    from aiortc import RTCPeerConnection

    agent = next(p for p in client.welcome["participants"] if p["role"] == "agent")
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="recvonly")
    captions: list[dict] = []
    pc.createDataChannel("captions").on("message", lambda m: captions.append(json.loads(m)))
    await client.subscribe(agent["id"], pc)
    return pc, captions


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
        # mid-answer, at a moment the agent is sounding (not in the pause between two clauses)
        mid = "performance.now() - window.viewer.agentLevel.firstLoud > 600"
        wait_for(page, f"{mid} && performance.now() - window.viewer.agentLevel.lastLoud < 40", 30)
        onset = speak(page, interruption)
        interruption_end = onset + 1000 * len(interruption) / RATE
        time.sleep(len(interruption) / RATE + 0.5)
        spans = page.evaluate("window.viewer.agentLevel.spans")
        captions = page.evaluate("window.viewer.captions")
    talking_at_onset = [s for s in spans if s[0] < onset]
    assert talking_at_onset and talking_at_onset[-1][1] > onset - 300, (onset, spans)
    # the answer stops while the viewer is still talking (about 4 s), and stays stopped while they talk;
    # how soon is the benchmarks' business (bench, bench-room): a loaded machine once took 1.6 s here
    stopped_at, within = talking_at_onset[-1][1], 2500
    assert stopped_at - onset < within, (onset, spans, captions)
    assert not [s for s in spans if onset + within < s[1] and s[0] < interruption_end], (onset, interruption_end, spans)
    assert any(c["role"] == "user" and "waterproof" in c["text"].lower() for c in captions), captions


def test_a_chat_question_is_answered_in_the_chat_and_aloud(server: str) -> None:

    from agent.rtc.client import RoomClient

    async def run() -> tuple[list[dict], list[dict]]:
        token = minted(server, "viewer", "Carol")["token"]
        client = RoomClient(server, "live", token)
        await client.connect()
        pc, captions = await listen_to_agent(client)
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


def test_two_viewers_asking_at_once_are_both_answered_each_by_name(server: str, say: Speaker) -> None:
    from aiortc import RTCPeerConnection

    from agent.rtc.client import RoomClient

    asks = {
        "Alice": ("How many days does the SmartBand X2 battery last?", "14"),
        "Bob": ("How much does the SmartBand X2 cost?", "199"),
    }

    async def join(name: str) -> tuple[RoomClient, Microphone, RTCPeerConnection]:
        token = minted(server, "viewer", name)["token"]
        client = RoomClient(server, "live", token)
        await client.connect()
        microphone, pc = Microphone(), RTCPeerConnection()
        pc.addTrack(microphone)
        await client.publish(pc)
        return client, microphone, pc

    async def run() -> list[dict]:
        viewers = {name: await join(name) for name in asks}
        client = viewers["Alice"][0]
        listen, captions = await listen_to_agent(client)
        await asyncio.sleep(2.0)  # the agent has subscribed to both microphones
        for name, (question, _) in asks.items():
            viewers[name][1].say(say.synthesize(question, "en"))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len([c for c in captions if c["type"] == "turn"]) < 2:
            await asyncio.sleep(0.2)
        for peer_client, _, pc in viewers.values():
            await pc.close()
            await peer_client.close()
        await listen.close()
        return captions

    captions = asyncio.run(run())
    for name, (_, fact) in asks.items():
        said = " ".join(
            c["text"]
            for c in captions
            if c["type"] == "transcript" and c["role"] == "agent" and c["viewer_name"] == name
        )
        assert said.startswith(f"{name}, ") and fact in said, (name, captions)


def test_the_host_page_puts_a_product_on_stage_and_pauses_the_agent(server: str) -> None:
    from agent.rtc.client import RoomClient

    host_url = minted(server, "host")["url"]

    async def chat(question: str, wait_s: float) -> list[str]:
        token = minted(server, "viewer", "Dan")["token"]
        client = RoomClient(server, "live", token)
        await client.connect()
        await client.send({"type": "chat", "text": question})
        replies: list[str] = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and not replies:
            try:
                event = await asyncio.wait_for(client.events.get(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if event["type"] == "chat" and event["role"] == "agent":
                replies.append(event["text"])
        await client.close()
        return replies

    with chromium() as browser:
        page = browser.new_page()
        page.goto(server + host_url)
        wait_for(page, "window.hostState && window.hostState.ready", 30)
        page.select_option("#stage", "band-x2")
        wait_for(page, "window.hostState.state.on_stage === 'band-x2'", 10)
        (reply,) = off_the_page(chat("Is this one waterproof?", 60))
        assert "5 ATM" in reply, reply  # "this one" is the product on stage
        page.click("#pause")
        wait_for(page, "window.hostState.state.agent_paused === true", 10)
        assert off_the_page(chat("How much is the SmartBand X2?", 8)) == []  # paused: no answer
        page.click("#pause")
        wait_for(page, "window.hostState.state.agent_paused === false", 10)
        page.click("#mute")  # muted: answers in the chat only, nothing aloud
        wait_for(page, "window.hostState.state.agent_muted === true", 10)
        spoken_before = page.evaluate("window.hostState.captions.filter(c => c.role === 'agent').length")
        (muted_reply,) = off_the_page(chat("How much is the SmartBand X2?", 60))
        assert "199" in muted_reply
        time.sleep(1.0)
        assert page.evaluate("window.hostState.captions.filter(c => c.role === 'agent').length") == spoken_before
        page.click("#mute")
        wait_for(page, "window.hostState.state.agent_muted === false", 10)
        turns = page.evaluate("window.hostState.turns")
    assert any(t["transcript"] == "Is this one waterproof?" and t["status"] == "answered" for t in turns), turns


def test_the_same_question_from_two_viewers_gets_one_answer(server: str) -> None:
    from agent.rtc.client import RoomClient

    async def run() -> list[dict]:
        clients = [RoomClient(server, "live", minted(server, "viewer", name)["token"]) for name in ("Frank", "Gina")]
        for client in clients:
            await client.connect()
        await clients[0].send({"type": "chat", "text": "What is the price of the SmartBand X2?"})
        await asyncio.sleep(0.5)
        await clients[1].send({"type": "chat", "text": "What is the price of the SmartBand X2?"})
        replies: list[dict] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(replies) < 2:
            event = await asyncio.wait_for(clients[0].events.get(), 60)
            if event["type"] == "chat" and event["role"] == "agent":
                replies.append(event)
        for client in clients:
            await client.close()
        return replies

    first, second = (r["text"] for r in asyncio.run(run()))
    assert first.startswith("@Frank ") and "199" in first, first
    assert second == "@Gina Frank just asked the same thing; that answer was for you too.", second


def test_the_agent_joins_a_room_served_by_another_process() -> None:
    import subprocess
    import sys

    from agent.rtc.client import RoomClient

    with running_server("--composer", "catalog", "--no-voice", env={"LIVEHOST_ADMIN_TOKEN": ADMIN}) as (url, _):
        agent_token = minted(url, "agent", "Remote")["token"]
        command = [sys.executable, "-m", "agent", "join", url, "--token", agent_token, "--composer", "catalog"]
        joiner = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 240
            while "agent" not in json.loads(urllib.request.urlopen(url + "/healthz").read())["rooms"].get("live", []):
                assert joiner.poll() is None and time.monotonic() < deadline, "the agent did not join"
                time.sleep(0.5)

            async def ask() -> str:
                client = RoomClient(url, "live", minted(url, "viewer", "Hank")["token"])
                await client.connect()
                await client.send({"type": "chat", "text": "How long does the SmartBand X2 battery last?"})
                while True:
                    event = await asyncio.wait_for(client.events.get(), 60)
                    if event["type"] == "chat" and event["role"] == "agent":
                        break
                await client.close()
                return str(event["text"])

            reply = asyncio.run(ask())
        finally:
            joiner.terminate()
            joiner.wait(timeout=30)
    assert reply.startswith("@Hank ") and "14" in reply, reply


def test_the_hosts_speech_is_a_question_only_when_put_to_the_agent_by_name(server: str, say: Speaker) -> None:
    from aiortc import RTCPeerConnection

    from agent.rtc.client import RoomClient

    async def run() -> list[dict]:
        host = RoomClient(server, "live", minted(server, "host", "Ivy")["token"])
        await host.connect()
        microphone, pc = Microphone(), RTCPeerConnection()
        pc.addTrack(microphone)
        await host.publish(pc)
        listen, captions = await listen_to_agent(host)
        await asyncio.sleep(2.0)  # the agent has subscribed to the host's microphone
        pause = np.zeros(int(1.5 * RATE), dtype=np.float32)
        microphone.say(say.synthesize("Welcome, everyone, to today's stream.", "en"))
        microphone.say(pause)
        microphone.say(say.synthesize("Lumi, how many days does the SmartBand X2 battery last?", "en"))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not [c for c in captions if c.get("status") == "answered"]:
            await asyncio.sleep(0.2)
        for peer in (pc, listen):
            await peer.close()
        await host.close()
        return captions

    captions = asyncio.run(run())
    # a pause after "Lumi," may split the question in two: the first part is then merged into the second;
    # on a busy machine the welcome may still be in recognition when the question starts: one turn of both;
    # or a loaded machine hears a turn end after "Welcome,": two turns not put to the agent
    turns = [c for c in captions if c["type"] == "turn" and c["status"] != "cancelled"]
    statuses = [t["status"] for t in turns]
    assert statuses[-1:] == ["answered"] and set(statuses[:-1]) <= {"not_addressed"}, turns
    assert "14" in turns[-1]["answer"] and "lumi" not in turns[-1]["answer"].lower(), turns


def test_hold_to_talk_in_the_browser(server: str, say: Speaker) -> None:
    question = say.synthesize("How many days does the SmartBand X2 battery last?", "en")
    with chromium() as browser:
        page = browser.new_page()
        page.add_init_script(WEBAUDIO_MIC)
        page.goto(viewer_url(server, "Jo"))  # no open mic: the viewer holds the button to talk
        wait_for(page, "window.viewer && window.viewer.ready", 30)
        assert page.evaluate("window.viewer.micLevel") is None  # the microphone is not open yet
        box = page.locator("#talk").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        wait_for(page, "window.viewer.micLevel !== null", 10)
        time.sleep(1.0)  # the microphone's connection to the room is up
        speak(page, question)
        time.sleep(len(question) / RATE + 0.3)
        page.mouse.up()
        wait_for(page, "window.viewer.captions.some(c => c.role === 'agent' && c.text.includes('14'))", 60)
        talking = page.evaluate("document.getElementById('talk').classList.contains('active')")
    assert not talking
