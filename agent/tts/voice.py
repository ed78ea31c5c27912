"""The error every voice raises. What a voice offers (`Voice`) is in agent/engines.py.

A `Voice` is blocking and thread-safe enough to be called from one worker thread at a time; the
`Speaker` (agent/tts/speaker.py) picks the voice by language, runs it off the event loop and brings
its output to the transport's rate and level.
"""

from __future__ import annotations


class VoiceError(Exception):
    """A voice that cannot be loaded or cannot say something, in one sentence."""
