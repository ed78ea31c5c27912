"""The live room: WebRTC signaling, the room's forwarding, the agent participant and its avatar."""

from agent.rtc import audio_level

audio_level.install()  # whoever sends audio through aiortc here (room, agent, evaluation clients)
