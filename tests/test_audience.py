"""The agent sends no media while nobody receives it (agent/rtc/audience.py), over a real aiortc
connection on loopback: the sender's packet count stands still, then moves again once someone listens."""

from __future__ import annotations

import asyncio

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
