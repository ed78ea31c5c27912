"""The show in the live room, with real models: the agent presents products by itself, stops for a
question, answers it about the product on stage, and goes back to its show."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import running_server

from agent.rtc.client import RoomClient

pytestmark = pytest.mark.model
ADMIN = "show-test-admin"


def minted(server: str, role: str, name: str = "") -> dict[str, str]:
    """A token of the room for `role` (and its page URL), minted with the admin token."""
    body = {"role": role, **({"name": name} if name else {})}
    return dict(
        httpx.post(f"{server}/api/rooms/live/tokens", json=body, headers={"Authorization": f"Bearer {ADMIN}"}).json()
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    files = tmp_path_factory.mktemp("show")  # not the user's own live facts and reports
    args = ("--composer", "catalog", "--show", "auto", "--live-facts", str(files / "live.json"), "--greet-every", "1")
    args += ("--report", str(files / "report.json"), "--show-state", str(files / "show-state.json"))
    with running_server(*args, env={"LIVEHOST_ADMIN_TOKEN": ADMIN}) as (url, _):
        deadline = time.monotonic() + 120
        while "agent" not in json.loads(urllib.request.urlopen(url + "/healthz").read())["rooms"].get("live", []):
            assert time.monotonic() < deadline, "the agent never joined the room"
            time.sleep(0.5)
        yield url


def test_the_agent_hosts_a_show_stops_for_a_question_about_the_product_on_stage_and_goes_back(server: str) -> None:
    from aiortc import RTCPeerConnection

    token = minted(server, "viewer", "Dana")["token"]

    async def run() -> tuple[list[dict], list[dict], dict]:
        client = RoomClient(server, "live", token)
        welcome = await client.connect()
        agent = next(p for p in welcome["participants"] if p["role"] == "agent")
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="recvonly")
        captions: list[dict] = []
        pc.createDataChannel("captions").on("message", lambda m: captions.append(json.loads(m)))
        await client.subscribe(agent["id"], pc)
        events: list[dict] = []
        state = dict(welcome.get("state", {}))

        async def until(condition, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
            deadline = time.monotonic() + timeout_s
            while not condition():
                assert time.monotonic() < deadline, (captions, events)
                try:
                    event = await asyncio.wait_for(client.events.get(), 0.2)
                except TimeoutError:
                    continue
                events.append(event)
                if event["type"] == "state":
                    state.update(event["state"])

        shown = lambda: [c for c in captions if c.get("show")]  # noqa: E731
        await until(lambda: len(shown()) >= 2 and state.get("on_stage"), 120)  # the show is on
        finn = RoomClient(
            server, "live", minted(server, "viewer", "Finn")["token"]
        )  # someone new comes in: welcomed by name
        await finn.connect()
        await until(lambda: any("Finn" in c.get("text", "") for c in shown()), 60)
        await finn.close()
        on_stage = state["on_stage"]
        asked_after = len(captions)
        await client.send({"type": "chat", "text": "How much is it?"})
        await until(lambda: any(e["type"] == "chat" and e["role"] == "agent" for e in events), 60)
        answered = len(captions)
        await until(lambda: any(c.get("show") for c in captions[answered:]), 60)  # and back to the show
        await pc.close()
        await client.close()
        return captions[asked_after:], events, {"on_stage": on_stage}

    after, events, state = asyncio.run(run())
    reply = next(e for e in events if e["type"] == "chat" and e["role"] == "agent")
    assert reply["text"].startswith("@Dana "), reply
    # "it" is the product the show put on stage: the sample catalog's first product, the SmartBand X2
    assert state["on_stage"] == "band-x2" and "199" in reply["text"], reply
    spoken = [c for c in after if c.get("type") == "transcript" and c.get("role") == "agent"]
    answer_at = next(i for i, c in enumerate(spoken) if not c.get("show"))
    assert "199" in spoken[answer_at]["text"]
    back = [c["text"] for c in spoken[answer_at:] if c.get("show")]
    assert back, spoken


def test_the_viewer_page_shows_the_card_of_the_product_the_show_presents(server: str, tmp_path: Path) -> None:
    from evals.room import chromium

    url = minted(server, "viewer")["url"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{server}{url}&name=Eve&lang=zh")
        page.wait_for_function("window.viewer && window.viewer.card", timeout=120_000)
        card = page.evaluate("window.viewer.card")
        text = page.inner_text("#card")
        page.screenshot(path=str(tmp_path / "viewer-card.png"))
    served = httpx.get(f"{server}/api/products/{card['id']}").json()
    assert served == card  # the card of a catalog product...
    assert card["name"]["zh"] in text and card["price"]["zh"] in text, text  # ...drawn in Chinese
    assert all(f"{s['label']}{s['value']}" in text.replace("\n", "") for s in card["specs"]["zh"]), text
    assert "undefined" not in text and "null" not in text, text


def test_the_host_sets_a_live_offer_on_the_host_page_and_removes_it(server: str, tmp_path: Path) -> None:
    from evals.room import chromium

    url = minted(server, "host")["url"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{server}{url}")
        page.wait_for_function("window.hostState && window.hostState.ready", timeout=120_000)
        page.select_option("#live-product", "band-x2")
        page.fill("#live-zh", "直播间下单立减30元")
        page.fill("#live-minutes", "30")
        page.click("#live-add")
        page.wait_for_function("window.hostState.liveFacts && window.hostState.liveFacts.length === 1", timeout=30_000)
        row = page.inner_text("#live-facts")
        page.screenshot(path=str(tmp_path / "host-live-facts.png"))
        asked = httpx.post(f"{server}/api/ask", json={"question": "有优惠吗?", "product": "band-x2"}, timeout=60).json()
        page.click("#live-facts button")
        page.wait_for_function("window.hostState.liveFacts.length === 0", timeout=30_000)
        # beside a person: talking points for the product on stage, a draft answer to a waiting question
        page.wait_for_function("window.hostState.points && window.hostState.points.length > 0", timeout=60_000)
        on_stage, points = page.evaluate("[window.hostState.state.on_stage, window.hostState.points]")
        page.evaluate("draftFor('How much is it?')")
        page.wait_for_function("(window.hostState.drafts || {})['How much is it?']", timeout=60_000)
        page.evaluate("queue.set('v1', {viewer_name: 'Dana', text: 'How much is it?'}); showQueue()")
        queued = page.inner_text("#queue")
        page.screenshot(path=str(tmp_path / "host-cohost.png"))
    served = httpx.get(f"{server}/api/products/{on_stage}/points").json()
    assert points in (served["zh"], served["en"]) and len(points) >= 3, points
    assert "Dana: How much is it?" in queued and "Send" in queued, queued
    assert "band-x2" in row and "直播间下单立减30元" in row, row
    assert "立减30元" in asked["answer"], asked
    assert httpx.get(f"{server}/api/products/band-x2").json()["offers"] == []


def test_the_host_page_lists_the_rundown_and_presents_or_moves_a_segment(server: str, tmp_path: Path) -> None:
    from evals.room import chromium

    url = minted(server, "host")["url"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}{url}")
        listed = "window.hostState.rundown && window.hostState.rundown.segments.length > 4"
        page.wait_for_function(listed, timeout=120_000)
        before = page.evaluate("window.hostState.rundown")
        page.click("#rundown li:nth-child(4) button[title='present this segment now']")  # place 3
        page.wait_for_function("window.hostState.rundown.current === 3", timeout=60_000)
        wanted = before["segments"][3]["product"]
        page.wait_for_function(f"window.hostState.state.on_stage === '{wanted}'", timeout=60_000)
        page.click("#rundown li:nth-child(6) button[title='earlier in the show']")  # place 5 moves up to 4
        page.wait_for_function(
            f"window.hostState.rundown.segments[4].product === '{before['segments'][5]['product']}'", timeout=60_000
        )
        listed = page.inner_text("#rundown")
        page.screenshot(path=str(tmp_path / "host-rundown.png"), full_page=True)
        after = page.evaluate("window.hostState.rundown")
    moved = [s["product"] for s in before["segments"]]
    moved[4], moved[5] = moved[5], moved[4]
    assert [s["product"] for s in after["segments"]] == moved and after["current"] == 3
    assert before["segments"][3]["name"] in listed and "undefined" not in listed, listed


def test_when_a_person_goes_live_the_ai_co_hosts_and_its_show_waits_until_they_stop(server: str) -> None:
    from aiortc import RTCPeerConnection
    from aiortc.mediastreams import AudioStreamTrack

    async def run() -> tuple[int, int]:
        viewer = RoomClient(server, "live", minted(server, "viewer", "Gus")["token"])
        welcome = await viewer.connect()
        agent = next(p for p in welcome["participants"] if p["role"] == "agent")
        listen = RTCPeerConnection()
        listen.addTransceiver("audio", direction="recvonly")
        shown: list[float] = []  # when each show line began
        channel = listen.createDataChannel("captions")
        channel.on("message", lambda m: shown.append(time.monotonic()) if json.loads(m).get("show") else None)
        await viewer.subscribe(agent["id"], listen)

        async def show_lines(count: int, timeout_s: float) -> None:
            deadline, start = time.monotonic() + timeout_s, len(shown)
            while len(shown) < start + count:
                assert time.monotonic() < deadline, "the show did not go on"
                await asyncio.sleep(0.2)

        await show_lines(1, 120)  # the show is on
        host = RoomClient(server, "live", minted(server, "host", "Mia")["token"])
        await host.connect()
        mic = RTCPeerConnection()
        mic.addTrack(AudioStreamTrack())  # the person's microphone (silence is enough: they are live)
        await host.publish(mic)
        live_from = time.monotonic()
        await asyncio.sleep(10)  # while they host, the AI's show says nothing new
        during = sum(1 for t in shown if t > live_from + 1.0)
        await mic.close()
        await host.close()  # they stop: the show goes on by itself
        await show_lines(1, 60)
        await listen.close()
        await viewer.close()
        return during, len(shown)

    during, total = asyncio.run(run())
    assert during == 0 and total >= 2


def test_the_show_report_page_shows_what_was_asked_and_what_the_show_presented(server: str, tmp_path: Path) -> None:
    from evals.room import chromium

    assert httpx.get(f"{server}/api/report").status_code == 401  # the host's, not everyone's
    report = httpx.get(f"{server}/api/report", headers={"Authorization": f"Bearer {ADMIN}"}).json()
    # the first test's viewer asked "How much is it?" about the product the show had on stage
    asked = next(p for p in report["by_product"] if p["product"] == "band-x2")
    assert asked["total"] >= 1 and report["by_status"].get("answered", 0) >= 1, report
    assert report["segments"] and report["viewers"], report
    url = minted(server, "host")["token"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(f"{server}/report?token={url}")
        page.wait_for_function("window.report !== null", timeout=60_000)
        text = page.inner_text("main")
        page.screenshot(path=str(tmp_path / "report.png"))
    assert "智能手环X2 / SmartBand X2" in text and "undefined" not in text, text


def test_the_agents_video_carries_the_card_of_the_product_on_stage(server: str) -> None:
    from aiortc import RTCPeerConnection

    async def run() -> list:  # type: ignore[type-arg]
        client = RoomClient(server, "live", minted(server, "viewer", "Ivy")["token"])
        welcome = await client.connect()
        agent = next(p for p in welcome["participants"] if p["role"] == "agent")
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="recvonly")
        frames: list = []  # type: ignore[type-arg]

        async def watch(track) -> None:  # type: ignore[no-untyped-def]
            while True:
                frames.append((await track.recv()).to_ndarray(format="rgb24"))

        tasks: list[asyncio.Future[None]] = []
        pc.on("track", lambda track: tasks.append(asyncio.ensure_future(watch(track))))
        await client.subscribe(agent["id"], pc)
        deadline = time.monotonic() + 60
        while len(frames) < 30 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await pc.close()
        await client.close()
        return frames

    frames = asyncio.run(run())
    assert frames, "no video from the agent"
    frame = frames[-1]
    h, w = frame.shape[:2]
    corner = frame[int(h * 0.05) : int(h * 0.25), int(w * 0.75) : int(w * 0.97)].astype(float).mean()
    sky = frame[int(h * 0.05) : int(h * 0.25), int(w * 0.03) : int(w * 0.25)].astype(float).mean()
    assert corner < sky - 60, (corner, sky)  # the dark card of the product the show has on stage
