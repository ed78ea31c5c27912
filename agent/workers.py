"""Where the agent's blocking work runs: threads of its own, apart from the media codecs' threads.

aiortc encodes every frame the room and the agent send with `loop.run_in_executor(None, ...)`, on
the event loop's default executor, which has min(32, cores + 4) threads: 6 on 2 cores. When the
agent's own blocking work (recognition, synthesis, the answer engine, turn detection, the avatar's
frames) also ran there (`asyncio.to_thread` uses it), three viewers' turns took every thread, some
of them only waiting for the one answer engine, and each audio frame the room forwarded waited
behind a transcription. On a loaded 2-core machine the agent's voice then reached listeners 10 to 30
seconds late and the delay never came back down (docs/PERFORMANCE.md, "The live room under
load"). Here that work has its own pool, sized so that threads waiting their turn at the engine
never hold up recognition, and the default executor is left to the codecs.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

THREADS = 32  # threads mostly wait (for the engine's lock, for a clause); CPU use is set per model
_pool = ThreadPoolExecutor(THREADS, thread_name_prefix="livehost-work")


async def in_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`asyncio.to_thread` on the agent's own pool: `fn(*args, **kwargs)` off the event loop."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool, call)
