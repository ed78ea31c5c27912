"""The raw-PCM WebSocket endpoint (`/ws/pcm`): one connection, one conversation.

The protocol of `shared/docs/latency.md`, which tools nobody here wrote (voicebench) speak:
binary messages are 16-bit little-endian mono PCM both ways (16 kHz unless the client says
otherwise); the agent also sends JSON text messages: `{"type": "clear"}` when a barge-in drops
unplayed audio, and `{"type": "transcript", "role": "user"|"agent", "text": ..., "final": ...}`.
The client may first send `{"type": "start", "sample_rate": N}` (or put `?sample_rate=N` in the
URL). Agent audio is sent at its real pace, one 20 ms frame at a time, only while it speaks. A
client may stop streaming when it is silent: after 300 ms without audio the agent hears silence.
Anything malformed gets an `{"type": "error", "error": ...}` message and is dropped; the
conversation goes on. A client that sends no audio for `IDLE_S` while the agent is not speaking
is told why and disconnected, so silent connections cannot hold the agent's conversation slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from agent.audio import RATE, AudioError, from_pcm16, resample, to_pcm16
from agent.session.conversation import Conversation, Stages
from agent.session.room_rules import RoomRules

log = logging.getLogger("livehost.pcm")
RATES = (8000, 16000, 24000, 44100, 48000)
FRAME_MS = 20
MAX_MESSAGE_BYTES = 96000  # one second of 48 kHz audio; real clients send 10-100 ms frames
STALL_S = 0.3  # no audio for this long: the agent hears silence until the client sends again
IDLE_S = 30.0  # no audio for this long (and the agent silent): the connection is closed, with the reason
MAX_CONTROL_CHARS = 4096


async def pcm_conversation(
    socket: WebSocket,
    stages_for: Callable[[int], Stages],
    on_stage: str | None = None,
    rate: int = RATE,
    idle_s: float = IDLE_S,
) -> Conversation | None:
    """Runs one conversation over an accepted WebSocket until the client leaves; returns it.

    The conversation starts with the first audio message, at the rate the client asked for by then.
    """
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    last_audio = [time.monotonic()]
    conversation: Conversation | None = None
    sender: asyncio.Task[None] | None = None

    async def send_audio(conversation: Conversation, rate: int) -> None:
        step = rate * FRAME_MS // 1000
        start, i = time.monotonic(), 0
        while True:
            if time.monotonic() - last_audio[0] > STALL_S:
                # a client that stops streaming after its question has gone quiet, like a muted mic
                conversation.hear(np.zeros(RATE * FRAME_MS // 1000, dtype=np.float32))
            i += 1
            delay = start + i * FRAME_MS / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:  # fell behind (a stalled loop): restart the schedule rather than burst
                start, i = time.monotonic(), 0
            while not outbox.empty():
                await socket.send_text(json.dumps(outbox.get_nowait(), ensure_ascii=False))
            speaking = conversation.playout.active and not conversation.playout.paused
            frame = conversation.play(step)
            if speaking:
                await socket.send_bytes(to_pcm16(frame))

    async def error(message: str) -> None:
        await socket.send_text(json.dumps({"type": "error", "error": message}))

    try:
        while True:
            try:
                message = await asyncio.wait_for(socket.receive(), max(0.0, last_audio[0] + idle_s - time.monotonic()))
            except TimeoutError:
                if conversation is not None and conversation.playout.active:
                    last_audio[0] = time.monotonic()  # listening to the agent's answer is not idling
                    continue
                reason = f"no audio for {idle_s:g} s: the connection is closed"
                await error(reason)
                await socket.close(code=1000, reason=reason)
                break
            if message["type"] == "websocket.disconnect":
                break
            data, text = message.get("bytes"), message.get("text")
            if text is not None:
                try:
                    asked = _control(text)
                except ValueError as e:
                    await error(str(e))
                    continue
                if asked and conversation is not None and asked != rate:
                    await error("sample_rate cannot change once audio has started")
                elif asked:
                    rate = asked
                continue
            if data is None:
                continue
            if len(data) > MAX_MESSAGE_BYTES:
                await error(f"an audio message of {len(data)} bytes is over the {MAX_MESSAGE_BYTES} byte limit")
                continue
            try:
                samples = from_pcm16(data)
            except AudioError as e:
                await error(str(e))
                continue
            if conversation is None:
                conversation = Conversation(stages_for(rate), on_message=outbox.put_nowait, rules=RoomRules(on_stage))
                conversation.start()
                sender = asyncio.create_task(send_audio(conversation, rate))
            conversation.hear(resample(samples, rate, RATE) if rate != RATE else samples)
            last_audio[0] = time.monotonic()
    except WebSocketDisconnect:
        pass
    finally:
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        if conversation is not None:
            await conversation.close()
    return conversation


def _control(text: str) -> int | None:
    """A client's JSON control message: the sample rate it asks for, if any; ValueError when malformed."""
    if len(text) > MAX_CONTROL_CHARS:
        raise ValueError(f"a text message of {len(text)} characters is over the {MAX_CONTROL_CHARS} limit")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("text messages must be JSON") from None
    if not isinstance(data, dict):
        raise ValueError("a control message must be a JSON object")
    if "sample_rate" not in data:
        return None  # other messages (e.g. a client's own transcript) are ignored
    rate = data["sample_rate"]
    if isinstance(rate, bool) or rate not in RATES:
        raise ValueError(f"sample_rate {str(rate)[:20]!r} is not supported (one of {', '.join(map(str, RATES))})")
    return int(rate)


def parse_rate(value: str | None) -> int | None:
    """The `?sample_rate=` of the URL, or None when it is not a supported rate."""
    if value is None:
        return RATE
    # ASCII digits only: str.isdigit() also takes '²', which int() refuses
    return int(value) if re.fullmatch(r"[0-9]{1,6}", value) and int(value) in RATES else None
