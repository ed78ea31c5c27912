"""The live room: WebRTC signaling, the room's forwarding, the agent participant and its avatar."""
