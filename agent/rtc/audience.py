"""Whether anyone receives the agent's media: nothing is encoded or sent while nobody does (issue 17).

The room tells a publisher how many receive its video and its audio (`watchers`). While nobody
receives a kind, the agent's sender for it keeps reading its track, so the voice goes on playing in
time (the show and the answers advance, captions and chat replies come when they should), but drops
each frame before encoding it: no Opus or VP8 work, no packets, and nothing for the room to decode.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection


def send_only_if_received(pc: RTCPeerConnection, counts: dict[str, Any]) -> dict[str, bool]:
    """Turn each kind's sending on or off from the room's counts (a kind the room does not count,
    as an older room server does not, stays on); returns what is now sent, by kind.

    aiortc (1.16) has no public switch that takes effect without a new offer and answer; its sender
    reads and drops frames while its `_enabled` flag is off (what an inactive transceiver does)."""
    sending: dict[str, bool] = {}
    for transceiver in pc.getTransceivers():
        count = counts.get(transceiver.kind)
        on = not isinstance(count, int) or count > 0
        if transceiver.sender is not None and hasattr(transceiver.sender, "_enabled"):
            transceiver.sender._enabled = on
            sending[transceiver.kind] = on
    return sending
