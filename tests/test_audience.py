"""The agent sends no media while nobody receives it (agent/rtc/audience.py), over a real aiortc
connection on loopback: the sender's packet count stands still, then moves again once someone listens."""

from __future__ import annotations

import asyncio

import numpy as np
from aiortc import AudioStreamTrack, RTCPeerConnection

from agent.rtc.audience import send_only_if_received


async def _packets_sent(pc: RTCPeerConnection) -> int:
    stats = await pc.getSenders()[0].getStats()
    return sum(int(getattr(s, "packetsSent", 0)) for s in stats.values() if s.type == "outbound-rtp")


async def _sent_over(pc: RTCPeerConnection, seconds: float) -> int:
    before = await _packets_sent(pc)
    await asyncio.sleep(seconds)
    return await _packets_sent(pc) - before


def test_audio_is_sent_only_while_someone_receives_it() -> None:
    async def run() -> tuple[int, int, int, dict[str, bool]]:
        sender, receiver = RTCPeerConnection(), RTCPeerConnection()
        sender.addTrack(AudioStreamTrack())  # silence, 20 ms frames: 50 packets a second
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        for _ in range(100):  # connected and sending
            if await _packets_sent(sender) > 5:
                break
            await asyncio.sleep(0.1)
        heard = await _sent_over(sender, 0.5)
        state = send_only_if_received(sender, {"type": "watchers", "audio": 0, "video": 0})
        await asyncio.sleep(0.1)  # a packet already on its way
        alone = await _sent_over(sender, 0.6)
        send_only_if_received(sender, {"type": "watchers", "audio": 1, "video": 0})
        again = await _sent_over(sender, 0.5)
        await sender.close()
        await receiver.close()
        return heard, alone, again, state

    heard, alone, again, state = asyncio.run(run())
    assert state == {"audio": False}
    assert heard >= 10 and alone == 0 and again >= 10, (heard, alone, again)


def test_a_room_that_does_not_count_a_kind_leaves_it_on() -> None:
    async def run() -> dict[str, bool]:
        pc = RTCPeerConnection()
        pc.addTrack(AudioStreamTrack())
        sending = send_only_if_received(pc, {"type": "watchers", "video": 0})  # an older room: no audio count
        await pc.close()
        return sending

    assert asyncio.run(run()) == {"audio": True}


def test_an_unheard_voice_plays_its_floor_in_steps_of_200_ms_and_a_heard_one_in_20() -> None:
    from agent.rtc.voice_track import Floor, VoiceTrack

    class CountingFloor(Floor):
        def __init__(self) -> None:
            super().__init__()
            self.asked: list[int] = []

        def read(self, n: int) -> np.ndarray:
            self.asked.append(n)
            return super().read(n)

    async def run() -> tuple[list[int], list[int]]:
        floor = CountingFloor()
        track = VoiceTrack(floor, 48000)
        pts = [(await track.recv()).pts for _ in range(2)]
        track.heard = False
        pts += [(await track.recv()).pts for _ in range(3)]
        track.heard = True
        pts.append((await track.recv()).pts)
        return floor.asked, pts

    asked, pts = asyncio.run(run())
    assert asked == [960, 960, 9600, 9600, 9600, 960]  # the floor's audio, all of it, in time
    assert pts == [0, 960, 1920, 11520, 21120, 30720]
