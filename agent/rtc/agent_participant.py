"""The AI host as a participant of a room: it joins through signaling like a browser does.

It publishes one voice (`VoiceTrack`), one avatar video (`AvatarTrack`) and a `captions` data
channel, and subscribes to every viewer who publishes a microphone and to the host, each on a
connection of its own, so it always knows who asked and never hears itself. The host's speech is
a question only when it begins with the agent's name. Each viewer it hears gets a
`Conversation`; typed chat questions go to the asker's conversation too and are answered aloud
and in the chat. The host's page controls it through room state: the product on stage, pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import soxr
from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agent.audio import RATE
from agent.room.room import RoomError, prefetch_less, rtc_configuration
from agent.rtc.audience import send_only_if_received
from agent.rtc.avatar import Avatar
from agent.rtc.avatar_track import AvatarTrack
from agent.rtc.client import RoomClient
from agent.rtc.voice_track import RATE as VOICE_RATE
from agent.rtc.voice_track import Floor, VoiceTrack
from agent.session.addressing import addressed_to
from agent.session.conversation import Conversation, Stages
from agent.session.room_rules import RoomRules
from agent.session.same_questions import SameQuestions
from agent.show.runner import Show

log = logging.getLogger("livehost.agent")
GAP_S = 0.1  # no microphone frame for this long: the viewer is heard as silent


@dataclass
class Listener:
    """One participant the agent hears: their connection, their conversation, who they are."""

    id: str
    name: str
    conversation: Conversation
    pc: RTCPeerConnection | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    chat_turns: set[int] = field(default_factory=set)  # turns asked in the chat, answered there too
    role: str = "viewer"


class AgentParticipant:
    def __init__(
        self,
        base_url: str,
        room: str,
        token: str,
        stages_for: Callable[[int], Stages],
        name: str = "Lumi",
        show: Show | None = None,
    ):
        self.client = RoomClient(base_url, room, token)
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.stages_for = stages_for
        self.show = show  # the rundown it presents while nobody asks (None: it only answers)
        held = ("agent_paused", "agent_muted", "show_paused")
        self.hosts_live: set[str] = set()  # people hosting with a microphone: the show steps back for them
        self.floor = Floor(show, lambda: bool(self.hosts_live) or any(self.state.get(k) for k in held))
        self._presented: str | None = None  # the product the show last put on stage
        self._show_task: asyncio.Task[None] | None = None
        self._card_task: asyncio.Future[None] | None = None
        self.avatar = Avatar(f"{name} · AI host")
        self.video = AvatarTrack(self.avatar, lambda: self.floor.level)
        self.voice = VoiceTrack(self.floor, VOICE_RATE)
        self.listeners: dict[str, Listener] = {}
        self.same = SameQuestions()  # one answer for the same question from several viewers
        self.state: dict[str, Any] = {}
        self.pc: RTCPeerConnection | None = None
        self.captions: RTCDataChannel | None = None
        self.id = ""

    async def run(self) -> None:
        """Join, publish, then follow the room until the connection ends."""
        welcome = await self.client.connect()
        self.id, self.state = welcome["id"], dict(welcome.get("state", {}))
        config = rtc_configuration(welcome.get("ice_servers", []))
        self.pc = RTCPeerConnection(config)
        self.captions = self.pc.createDataChannel("captions")
        self.pc.addTrack(self.voice)
        self.pc.addTrack(self.video)
        await self.client.publish(self.pc)
        for participant in welcome.get("participants", []):
            self._note_host(participant)
            await self._consider(participant)
        if self.show is not None:
            # the show outlives this connection (a rejoin is a new participant): watched only while in the room
            self.show.watchers_of_rundown.append(self._publish_rundown)
            self._publish_rundown()  # the host page lists it (again, after a rejoin)
            speaker = self.stages_for(VOICE_RATE).speaker
            show = self.show.run(speaker, self.floor.room_busy, self._present, self._show_caption)
            self._show_task = asyncio.ensure_future(show)
        try:
            while (event := await self.client.events.get())["type"] != "closed":
                try:
                    await self._on_event(event)
                except Exception:  # one bad event must not take the agent out of the room
                    log.exception("room event %s failed", event.get("type"))
        finally:
            await self.close()

    async def close(self) -> None:
        if self.show is not None and self._publish_rundown in self.show.watchers_of_rundown:
            self.show.watchers_of_rundown.remove(self._publish_rundown)
        if self._card_task is not None:
            self._card_task.cancel()
        if self._show_task is not None:
            self._show_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._show_task
        for listener in list(self.listeners.values()):
            await self._drop(listener.id)
        if self.pc is not None:
            await self.pc.close()
        await self.client.close()

    # ---- the room -----------------------------------------------------------------------
    async def _on_event(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "joined" and self.show is not None and event["participant"].get("role") == "viewer":
            name = _spoken_name(event["participant"].get("name", ""))
            if name:
                self.show.greet(name)  # welcomed now and then, with the others who came meanwhile
        if kind in ("published", "joined"):
            self._note_host(event["participant"])
            await self._consider(event["participant"])
        elif kind in ("left", "unpublished"):
            self.hosts_live.discard(event["id"])
            await self._drop(event["id"])
        elif kind == "state":
            self._apply(event["state"])
        elif kind == "show" and self.show is not None:
            self._steer(event)
        elif kind == "watchers":
            self.video.watched = bool(event.get("video"))
            if self.pc is not None:
                self.voice.heard = send_only_if_received(self.pc, event).get("audio", True)
        elif kind == "chat" and event.get("role") == "viewer" and not self.state.get("agent_paused"):
            listener = self.listeners.get(event["from"]) or self._listener(event["from"], event.get("name", ""))
            # a typed question is answered aloud too, so the room hears whom it is for
            listener.chat_turns.add(listener.conversation.ask(event["text"], addressee=_spoken_name(listener.name)))

    def _note_host(self, participant: dict[str, Any]) -> None:
        """A person hosting with a microphone ("Go live"): the AI co-hosts, its show waits for them."""
        if participant.get("role") == "host" and "audio" in participant.get("publishes", []):
            self.hosts_live.add(participant["id"])

    async def _consider(self, participant: dict[str, Any]) -> None:
        """Hear a viewer who publishes a microphone, and the host (whose speech is a question only
        when put to the agent by name)."""
        role = participant["role"]
        if participant["id"] == self.id or role not in ("viewer", "host") or "audio" not in participant["publishes"]:
            return
        listener = self.listeners.get(participant["id"]) or self._listener(participant["id"], participant["name"], role)
        if listener.pc is not None:
            await listener.pc.close()
        pc = RTCPeerConnection(rtc_configuration(self.client.welcome.get("ice_servers", [])))
        listener.pc = pc
        pc.addTransceiver("audio", direction="recvonly")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            prefetch_less(pc, track)
            listener.tasks.append(asyncio.ensure_future(self._hear(track, listener)))

        try:
            await self.client.subscribe(participant["id"], pc)
            log.info("listening to %s (%s)", participant["name"], participant["id"])
        except (RoomError, TimeoutError) as e:
            log.warning("cannot hear %s: %s", participant["name"], e)

    def _listener(self, participant_id: str, name: str, role: str = "viewer") -> Listener:
        rules = RoomRules(accepts=addressed_to(self.name) if role == "host" else None)
        conversation = Conversation(
            self.stages_for(VOICE_RATE), on_message=lambda message: self._caption(listener, message), rules=rules
        )
        self._configure(conversation)
        listener = Listener(participant_id, name, conversation, role=role)
        rules.claim = lambda plan: self.same.claim(conversation, _spoken_name(name) or "", plan)
        conversation.start()
        self.listeners[participant_id] = listener
        self.floor.conversations.append(conversation)
        self._address()
        return listener

    def _address(self) -> None:
        """With several viewers asking, each answer begins with the asker's name; with one, none does."""
        viewers = [listener for listener in self.listeners.values() if listener.role == "viewer"]
        for listener in viewers:
            listener.conversation.rules.addressee = _spoken_name(listener.name) if len(viewers) > 1 else None

    async def _drop(self, participant_id: str) -> None:
        listener = self.listeners.pop(participant_id, None)
        if listener is None:
            return
        self.same.forget(listener.conversation)
        with contextlib.suppress(ValueError):
            self.floor.conversations.remove(listener.conversation)
        self._address()
        for task in listener.tasks:
            task.cancel()
        if listener.pc is not None:
            await listener.pc.close()
        await listener.conversation.close()
        # the same-question claim refers back to the conversation: cut, it goes now, not at the
        # collector's next full pass (which may not come for hours while the show talks)
        listener.conversation.rules.claim = None

    def _apply(self, state: dict[str, Any]) -> None:
        silenced = [k for k in ("agent_paused", "agent_muted") if state.get(k) and not self.state.get(k)]
        pushed = state.get("on_stage")
        if pushed != self.state.get("on_stage") or not self.avatar.card:
            self._card_task = asyncio.ensure_future(self._show_card(pushed))
        if self.show is not None and pushed and pushed not in (self.state.get("on_stage"), self._presented):
            self.show.present(pushed)  # the host put a product on stage: the show presents it now
        self.state = dict(state)
        for listener in self.listeners.values():
            self._configure(listener.conversation)
            if silenced:
                listener.conversation.interrupt(silenced[0].removeprefix("agent_"))

    async def _show_card(self, product_id: str | None) -> None:
        """The product on stage on the avatar's video too: its card from the room's server."""
        if not product_id:
            self.avatar.show_card(())
            return
        url = f"{self.base_url}/api/products/{urllib.parse.quote(product_id, safe='')}"
        try:
            card = await asyncio.to_thread(_get_json, url)
        except (OSError, ValueError) as e:  # no card costs the card, never the agent
            log.warning("no card for %s: %s", product_id, e)
            return
        if self.state.get("on_stage") == product_id:
            self.avatar.show_card(card_lines(card))

    def _configure(self, conversation: Conversation) -> None:
        conversation.rules.on_stage = self.state.get("on_stage")
        conversation.rules.aloud = not self.state.get("agent_muted")

    # ---- hearing and saying ---------------------------------------------------------------
    async def _hear(self, track: MediaStreamTrack, listener: Listener) -> None:
        """A viewer's microphone (48 kHz stereo Opus, decoded) -> 16 kHz mono -> their conversation.

        A browser may stop sending packets while its source is silent (WebAudio sources do): after
        `GAP_S` without a frame the conversation hears silence, so a turn can still end.
        """
        resampler: soxr.ResampleStream | None = None
        gap = np.zeros(int(RATE * GAP_S), dtype=np.float32)
        log.info("hearing %s", listener.name)
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                try:
                    frame = await asyncio.wait_for(track.recv(), GAP_S)
                except TimeoutError:
                    listener.conversation.hear(gap)
                    continue
                if not isinstance(frame, av.AudioFrame) or not frame.samples:
                    continue
                try:
                    samples = mono(frame)
                    if resampler is None:
                        resampler = soxr.ResampleStream(frame.sample_rate, RATE, 1, dtype="float32", quality="HQ")
                    if self.state.get("agent_paused"):
                        samples = np.zeros_like(samples)  # paused: the agent hears nothing and answers nothing
                    listener.conversation.hear(resampler.resample_chunk(samples))
                except Exception:  # one undecodable frame costs that frame, never the viewer's conversation
                    log.exception("a frame from %s could not be used", listener.name)

    def _caption(self, listener: Listener, message: dict[str, Any]) -> None:
        """What the agent heard and says, on its data channel; chat questions (and every question while
        the agent is muted) also get a chat answer."""
        if message.get("type") == "turn":
            self.same.finished(listener.conversation)
        if message.get("type") == "turn" and message.get("answer"):
            typed = message["turn"] in listener.chat_turns
            listener.chat_turns.discard(message["turn"])
            if typed or (self.state.get("agent_muted") and not message.get("heard")):
                asyncio.ensure_future(self._chat(f"@{listener.name} {message['answer']}"))
        if message.get("type") not in ("transcript", "turn", "clear"):
            return
        if message["type"] == "turn":
            message = {k: v for k, v in message.items() if k != "events"}
        if self.captions is not None and self.captions.readyState == "open":
            payload = {**message, "viewer": listener.id, "viewer_name": listener.name}
            self.captions.send(json.dumps(payload, ensure_ascii=False))

    def _present(self, product_id: str) -> None:
        """The show moves on to a product: it goes on stage (pages, and "how much is it?" means it)."""
        self._presented = product_id
        if self.state.get("on_stage") != product_id:
            asyncio.ensure_future(self._send({"type": "stage", "product": product_id}))

    def _steer(self, event: dict[str, Any]) -> None:
        """The host moved the show (checked by the room against the rundown this agent published)."""
        assert self.show is not None
        try:
            if event.get("skip"):
                self.show.skip()
            elif event.get("repeat"):
                self.show.repeat()
            elif event.get("go_to") is not None:
                self.show.go_to(int(event["go_to"]))
            elif event.get("order") is not None:
                self.show.reorder([int(i) for i in event["order"]])
        except ValueError as e:  # the rundown changed since the host page read it
            log.warning("the show did not move: %s", e)

    def _publish_rundown(self) -> None:
        if self.show is not None and self.id:
            asyncio.ensure_future(self._send({"type": "rundown", **self.show.describe()}))

    def _show_caption(self, text: str, language: str) -> None:
        if self.captions is not None and self.captions.readyState == "open":
            message = {"type": "transcript", "role": "agent", "text": text, "final": True, "show": True}
            self.captions.send(json.dumps(message, ensure_ascii=False))

    async def _send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.client.send(message)

    async def _chat(self, text: str) -> None:
        await self._send({"type": "chat", "text": text[:300]})


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 (the room's own http(s) server)
        return json.loads(reply.read(1_000_000))


def card_lines(card: dict[str, Any]) -> list[str]:
    """A product card (GET /api/products/ID) as the avatar shows it: Chinese name, price, English name,
    a live offer."""
    name, price = card["name"], card["price"]
    was = card.get("original_price")
    lines = [name.get("zh") or name.get("en"), price["zh"] + (f"  原价{was['zh']}" if was else "")]
    if name.get("en") and name.get("en") != name.get("zh"):
        lines.append(name["en"])
    offers = card.get("offers") or []
    if offers:
        lines.append(offers[0].get("zh") or offers[0].get("en") or "")
    return [line for line in lines if line]


def _spoken_name(name: str) -> str | None:
    """A display name worth saying aloud (not the default role names)."""
    name = name.strip()
    return name if name and name.lower() not in ("viewer", "guest", "anonymous") else None


def mono(frame: av.AudioFrame) -> np.ndarray:
    """A decoded audio frame (packed or planar s16/float, any layout) as mono float32 in [-1, 1]."""
    data = frame.to_ndarray()
    if data.dtype == np.int16:
        data = data / 32768.0
    data = data.astype(np.float32)
    if frame.format.is_planar:  # (channels, samples)
        return np.asarray(data.mean(axis=0), dtype=np.float32)
    return np.asarray(data.reshape(-1, len(frame.layout.channels)).mean(axis=1), dtype=np.float32)
