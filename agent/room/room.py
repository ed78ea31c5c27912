"""A live room: who is in it, what each participant publishes, and the forwarding between them.

SFU-style, on aiortc's `MediaRelay`: every participant publishes its tracks (and, optionally, a
data channel) over one peer connection to the server, and subscribes to each other publisher over
a connection of its own, for which the client offers and the server answers with relayed copies
of that publisher's tracks. Nothing is mixed. Messages a publisher sends on its data channel are
forwarded to the data channel of each of its subscribers (that is how the agent's captions reach
the pages). The agent is a participant like any other: the media path never special-cases it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCDataChannel, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import SessionDescription

from agent.room.live_edge import LiveEdge
from agent.room.tokens import MAX_NAME_CHARS, Pass

log = logging.getLogger("livehost.room")
# seats per role: viewers can never take the host's or the agent's (64 in all)
ROLE_SEATS = {"viewer": 58, "host": 3, "agent": 3}
MAX_PARTICIPANTS = sum(ROLE_SEATS.values())
RESERVED_NAMES = ("host", "agent", "admin", "server", "livehost")  # no viewer shows up under these
MAX_SDP_CHARS = 20000
ICE_GATHER_S = 5.0
Send = Callable[[dict[str, Any]], None]
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"  # aiortc 1.16's (name-mangled) audio jitter buffer


class RoomError(ValueError):
    """A request the room refuses; the message says why in one sentence."""


BUSY = ("is full", "already in use")  # refusals at the door that may pass (seats come free); others do not


def busy(refusal: RoomError | str) -> bool:
    return any(mark in str(refusal) for mark in BUSY)


@dataclass
class Subscription:
    publisher: str
    pc: RTCPeerConnection
    channel: RTCDataChannel | None = None
    video: bool = False  # it carries the publisher's video (someone watches it)
    audio: bool = False  # it carries the publisher's audio (someone hears it)

    async def close(self) -> None:
        await self.pc.close()  # its senders stop the relay's copies they were sending (aiortc 1.16)


@dataclass
class Participant:
    id: str
    name: str
    role: str
    send: Send  # room events to this participant (its signaling socket)
    joined: float = field(default_factory=time.time)
    publisher: RTCPeerConnection | None = None
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)  # kind -> what it publishes
    subscriptions: dict[str, Subscription] = field(default_factory=dict)  # publisher id -> connection
    drains: list[asyncio.Task[None]] = field(default_factory=list)
    granted: Pass | None = None  # the token it came in with (its seat is given back on leaving)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role, "publishes": sorted(self.tracks)}


def prefetch_less(pc: RTCPeerConnection, track: MediaStreamTrack, prefetch: int = 1) -> None:
    """Decode incoming audio after one packet instead of aiortc's four (80 ms).

    aiortc holds four 20 ms packets in its jitter buffer before it decodes one. A forwarding hop
    needs no jitter buffer of its own (the listener at the end of the path has one), and on one
    machine or a LAN there is next to no jitter; measured in the room (docs/PERFORMANCE.md), the
    three aiortc hops of a barge-in cost about 240 ms of that buffering. Call it from the `track`
    event, before any packet has arrived.
    """
    if track.kind != "audio":
        return
    for receiver in pc.getReceivers():
        if receiver.track is track:
            if not isinstance(getattr(receiver, _JITTER_BUFFER, None), JitterBuffer):
                log.warning("this aiortc keeps its jitter buffer elsewhere: audio keeps its 80 ms prefetch")
                return
            setattr(receiver, _JITTER_BUFFER, JitterBuffer(capacity=16, prefetch=prefetch))


def rtc_configuration(ice_servers: list[dict[str, Any]]) -> RTCConfiguration:
    """The ICE servers the room offers its participants (none: host candidates only, one machine)."""
    return RTCConfiguration(iceServers=[RTCIceServer(**server) for server in ice_servers])


def name_key(name: str) -> str:
    """What a display name looks like to a reader: case, width, spaces and punctuation ignored."""
    return "".join(c for c in unicodedata.normalize("NFKC", name).casefold() if c.isalnum())


class Room:
    def __init__(
        self,
        name: str,
        ice_servers: list[dict[str, Any]] | None = None,
        has_product: Callable[[str], bool] = bool,
        reserved_names: tuple[str, ...] = (),
    ):
        self.name = name
        self.ice_servers = ice_servers or []
        self.has_product = has_product
        self.reserved_names = {name_key(n) for n in (*RESERVED_NAMES, *reserved_names)} - {""}
        self.participants: dict[str, Participant] = {}
        self.seated: Counter[Pass] = Counter()  # connections per token (equal passes are the same token)
        self.relay = MediaRelay()
        # set by the host: paused = the agent neither hears nor answers; muted = it answers in the chat only
        self.state: dict[str, Any] = {
            "on_stage": None,
            "agent_paused": False,
            "agent_muted": False,
            "show_paused": False,
        }
        self._ids = itertools.count(1)

    # ---- membership -----------------------------------------------------------------------
    def join(self, granted: Pass, send: Send, name: str | None = None) -> Participant:
        """A new participant with the token's role; a viewer may pick its own display name.

        Each role has its own seats, so viewers cannot keep the host or the agent out, and one token
        holds at most its own number of seats, so one shared link cannot fill the room."""
        in_role = sum(p.role == granted.role for p in self.participants.values())
        if in_role >= ROLE_SEATS.get(granted.role, 0):
            raise RoomError(f"room '{self.name}' is full ({ROLE_SEATS.get(granted.role, 0)} {granted.role} seats)")
        if self.seated[granted] >= granted.seats:
            raise RoomError(f"this token is already in use {granted.seats} time(s) in room '{self.name}'")
        shown = (name or "").strip()[:MAX_NAME_CHARS] if granted.role == "viewer" else ""
        if shown and self._taken(shown):
            raise RoomError(f"the name '{shown}' belongs to the host or the agent; pick another one")
        participant = Participant(f"{granted.role[0]}{next(self._ids)}", shown or granted.name, granted.role, send)
        participant.granted = granted
        self.participants[participant.id] = participant
        self.seated[granted] += 1
        participant.send(
            {
                "type": "welcome",
                "id": participant.id,
                "room": self.name,
                "role": participant.role,
                "name": participant.name,
                "ice_servers": self.ice_servers,
                "participants": [p.describe() for p in self.participants.values()],
                "state": dict(self.state),
            }
        )
        self.broadcast({"type": "joined", "participant": participant.describe()}, skip=participant.id)
        return participant

    def _taken(self, name: str) -> bool:
        key = name_key(name)
        staff = {name_key(p.name) for p in self.participants.values() if p.role != "viewer"}
        return key in self.reserved_names or key in staff

    async def leave(self, participant: Participant) -> None:
        if self.participants.pop(participant.id, None) is None:
            return
        if participant.granted is not None:
            self.seated[participant.granted] -= 1
            if self.seated[participant.granted] <= 0:
                del self.seated[participant.granted]
        await self._unpublish(participant)
        watched = [s.publisher for s in participant.subscriptions.values() if s.video or s.audio]
        for subscription in list(participant.subscriptions.values()):
            await subscription.close()
        participant.subscriptions.clear()
        for publisher_id in watched:
            self._tell_watchers(publisher_id)
        # others may leave while this one awaits: iterate over copies
        for other in list(self.participants.values()):  # their connections that carried the leaver's media
            gone = other.subscriptions.pop(participant.id, None)
            if gone:
                await gone.close()
        self.broadcast({"type": "left", "id": participant.id})

    @property
    def empty(self) -> bool:
        return not self.participants

    def broadcast(self, event: dict[str, Any], skip: str | None = None) -> None:
        for participant in list(self.participants.values()):
            if participant.id != skip:
                participant.send(event)

    def set_state(self, **changes: Any) -> None:
        self.state.update(changes)
        self.broadcast({"type": "state", "state": dict(self.state)})  # a copy: later changes are later events

    # ---- media ----------------------------------------------------------------------------
    async def publish(self, participant: Participant, offer: Any) -> str:
        """The participant's own media, offered; returns the server's answer."""
        offer = _check_sdp(offer)
        await self._unpublish(participant)  # a second publish replaces the first (e.g. the mic turned on)
        pc = RTCPeerConnection(rtc_configuration(self.ice_servers))
        participant.publisher = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            prefetch_less(pc, track)
            participant.tracks[track.kind] = track
            # read every published track from the start, so nothing queues up unread while nobody listens
            participant.drains.append(asyncio.ensure_future(_drain(self.relay.subscribe(track, buffered=False))))

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            @channel.on("message")
            def forward(message: str | bytes) -> None:
                for other in self.participants.values():
                    sub = other.subscriptions.get(participant.id)
                    if sub and sub.channel and sub.channel.readyState == "open":
                        sub.channel.send(message)

        answer = await _answer(pc, offer)
        self.broadcast({"type": "published", "participant": participant.describe()}, skip=participant.id)
        self._tell_watchers(participant.id)
        return answer

    async def subscribe(self, participant: Participant, publisher_id: str, offer: Any) -> str:
        """A connection carrying `publisher_id`'s tracks (and data) to `participant`; returns the answer."""
        publisher = self.participants.get(publisher_id)
        if publisher is None or not publisher.tracks:
            raise RoomError(f"participant '{publisher_id[:20]}' is not publishing in this room")
        if publisher_id == participant.id:
            raise RoomError("a participant does not subscribe to itself")
        if participant.role == "viewer" and publisher.role == "viewer":
            raise RoomError("viewers receive the host and the agent, not other viewers' microphones")
        offer = _check_sdp(offer)
        old = participant.subscriptions.pop(publisher_id, None)
        if old:
            await old.close()
        pc = RTCPeerConnection(rtc_configuration(self.ice_servers))
        subscription = Subscription(publisher_id, pc)
        participant.subscriptions[publisher_id] = subscription

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            subscription.channel = channel

        try:
            await _accept_offer(pc, offer)
            for transceiver in pc.getTransceivers():
                track = publisher.tracks.get(transceiver.kind)
                if track is not None and transceiver.kind == "audio":
                    copy = self.relay.subscribe(track, buffered=True)
                    # people hear the present (LiveEdge); the agent hears every word of a question,
                    # late if it must (it catches up by itself, and a clipped question is misheard)
                    pc.addTrack(
                        copy
                        if participant.role == "agent"
                        else LiveEdge(copy, f"{publisher.name} -> {participant.name}")
                    )
                    subscription.audio = True
                elif track is not None:
                    pc.addTrack(self.relay.subscribe(track, buffered=False))  # video: the latest frame
                    subscription.video = True
            answer = await _answer(pc, None)
            if participant.id not in self.participants or publisher_id not in self.participants:
                raise RoomError("the subscription ended while it was being set up (someone left)")
            return answer
        except RoomError:
            if participant.subscriptions.get(publisher_id) is subscription:
                del participant.subscriptions[publisher_id]
            await subscription.close()
            raise
        finally:
            self._tell_watchers(publisher_id)

    def watchers(self, publisher_id: str, kind: str = "video") -> int:
        """How many participants receive `publisher_id`'s video (or audio)."""
        subscriptions = (p.subscriptions.get(publisher_id) for p in self.participants.values())
        return sum(bool(sub and getattr(sub, kind)) for sub in subscriptions)

    def _tell_watchers(self, publisher_id: str) -> None:
        """The publisher learns how many watch its video and hear its audio: the agent renders its avatar
        at full rate only when someone watches, and encodes and sends nothing while nobody receives it
        (an unwatched avatar cost the room most of a core, docs/PERFORMANCE.md)."""
        publisher = self.participants.get(publisher_id)
        if publisher is not None and publisher.tracks:
            counts = {kind: self.watchers(publisher_id, kind) for kind in ("video", "audio")}
            publisher.send({"type": "watchers", **counts})

    async def _unpublish(self, participant: Participant) -> None:
        for drain in participant.drains:
            drain.cancel()
        participant.drains.clear()
        had = bool(participant.tracks)
        participant.tracks.clear()
        if participant.publisher is not None:
            await participant.publisher.close()
            participant.publisher = None
        if had and participant.id in self.participants:
            self.broadcast({"type": "unpublished", "id": participant.id}, skip=participant.id)

    async def close(self) -> None:
        for participant in list(self.participants.values()):
            await self.leave(participant)


async def _accept_offer(pc: RTCPeerConnection, offer: str) -> None:
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    except Exception as e:  # anything aiortc cannot take from a client's offer is the offer's fault
        await pc.close()
        raise RoomError(f"the offer is not usable SDP: {_reason(e)}") from None


async def _answer(pc: RTCPeerConnection, offer: str | None) -> str:
    """Accept an offer (unless already set) and return the full answer, candidates included (no trickle)."""
    if offer is not None:
        await _accept_offer(pc, offer)
    try:
        await asyncio.wait_for(pc.setLocalDescription(await pc.createAnswer()), ICE_GATHER_S * 2)
    except TimeoutError:
        await pc.close()
        raise RoomError("gathering ICE candidates took too long") from None
    except Exception as e:
        await pc.close()
        raise RoomError(f"no answer can be made to this offer: {_reason(e)}") from None
    return pc.localDescription.sdp


def _reason(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e)[:160]}" if str(e) else type(e).__name__


async def _drain(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            await track.recv()


def _check_sdp(sdp: Any) -> str:
    """An offer aiortc can take whole: parsed here first, so a bad one is a reason, not a failed task."""
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise RoomError("sdp must be an SDP offer (text starting with 'v=0')")
    if len(sdp) > MAX_SDP_CHARS:
        raise RoomError(f"an SDP of {len(sdp)} characters is over the {MAX_SDP_CHARS} limit")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as e:  # aiortc's parser asserts and indexes on what it reads
        raise RoomError(f"the offer is not usable SDP: {_reason(e)}") from None
    if not parsed.media:
        raise RoomError("the offer has no media section")
    for i, media in enumerate(parsed.media):
        where = f"media section {i + 1} ({media.kind})"
        if media.kind not in ("audio", "video", "application"):
            raise RoomError(f"{where}: only audio, video and data channels are carried")
        if not media.ice or not media.ice.usernameFragment or not media.ice.password:
            raise RoomError(f"{where}: a=ice-ufrag and a=ice-pwd are missing")
        if not media.dtls or not media.dtls.fingerprints:
            raise RoomError(f"{where}: a=fingerprint is missing (DTLS is required)")
        if media.kind in ("audio", "video") and not media.rtcp_mux:
            raise RoomError(f"{where}: a=rtcp-mux is missing (RTP and RTCP must share one port)")
    return sdp


class Rooms:
    """Every room of this server, created when first joined and removed when the last one leaves
    (except the `kept` ones, whose state (the product on stage, a paused agent) outlives a reload)."""

    MAX_ROOMS = 32

    def __init__(
        self,
        ice_servers: list[dict[str, Any]] | None = None,
        has_product: Callable[[str], bool] = bool,
        reserved_names: tuple[str, ...] = (),
        kept: tuple[str, ...] = (),
    ):
        self.ice_servers = ice_servers or []
        self.has_product = has_product
        self.reserved_names = reserved_names
        self.kept = set(kept)
        self.rooms: dict[str, Room] = {}

    def get(self, name: str) -> Room:
        room = self.rooms.get(name)
        if room is None:
            if len(self.rooms) >= self.MAX_ROOMS:
                raise RoomError(f"this server already holds {self.MAX_ROOMS} rooms")
            room = self.rooms[name] = Room(name, self.ice_servers, self.has_product, self.reserved_names)
        return room

    def forget_if_empty(self, room: Room) -> None:
        if room.empty and room.name not in self.kept and self.rooms.get(room.name) is room:
            del self.rooms[room.name]

    async def close(self) -> None:
        for room in self.rooms.values():
            await room.close()
