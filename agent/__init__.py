"""livehost: an AI live-stream host that answers viewers from the seller's catalog."""
