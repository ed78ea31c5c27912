"""The voices' memory on the CPU: one shared onnxruntime arena that gives back what a clause needed,
and freed heap memory handed back to the system once the voice is idle.

onnxruntime's default CPU arena keeps every block it ever allocated, per session, and grows by
powers of two: after a few hours of answers of every length (and several synthesized at once) the
voices held several hundred MB that no clause was using, and the server never came back down.
Turning the arena off returns that memory but every run then pays for fresh pages (about 17 %
slower synthesis). Here the English voice and both Mandarin models allocate from one arena
registered with onnxruntime's environment, and every run ends by shrinking it: regions with nothing
left in use are released. Its first 64 MB region is kept warm (shrinking everything cost English
clauses 10 % in fresh pages).

Much of the rest was glibc's heaps (the main one and one per worker thread: audio arrays,
recognition, answers, the language model's start-up probe) holding freed memory. `IdleTrim` calls
`malloc_trim(0)`, about 1.5 ms, once no clause has been synthesized for 2 s (the answer is out),
which hands those free pages back. Measured in docs/PERFORMANCE.md ("Memory over a long run").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading
import time
from typing import Any

WARM_BYTES = 64 << 20  # the arena's first region, kept across runs; most clauses need less
SHRINK = ("memory.enable_memory_arena_shrinkage", "cpu:0")

_lock = threading.Lock()
_registered = False


def share_arena(options: Any, ort: Any) -> None:
    """Make a CPU session allocate from the voices' shared arena (registered on first use)."""
    global _registered
    with _lock:
        if not _registered:
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            # max_mem 0 = no limit; extend strategy -1 = onnxruntime's default; -1 = default dead bytes
            ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, WARM_BYTES, -1))
            _registered = True
    options.add_session_config_entry("session.use_env_allocators", "1")


class ShrinkingSession:
    """An InferenceSession whose every run releases the arena's idle regions when it ends.

    Piper calls `session.run(None, feeds)` itself, so it gets this in place of the session.
    """

    def __init__(self, session: Any, ort: Any) -> None:
        self.session = session
        self.run_options = ort.RunOptions()
        self.run_options.add_run_config_entry(*SHRINK)

    def run(self, output_names: Any, input_feed: dict[str, Any], run_options: Any = None) -> Any:
        return self.session.run(output_names, input_feed, run_options or self.run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


class IdleTrim:
    """Returns the process's free malloc memory to the system once, after `idle_s` without synthesis."""

    def __init__(self, idle_s: float = 2.0) -> None:
        self.idle_s = idle_s
        self.trims = 0
        self._trim = _malloc_trim()
        self._cond = threading.Condition()
        self._last = 0.0
        self._pending = False
        self._thread: threading.Thread | None = None

    def busy(self) -> None:
        """The voice just worked: trim when it has been quiet for `idle_s`."""
        if self._trim is None:
            return
        with self._cond:
            self._last, self._pending = time.monotonic(), True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="voice-idle-trim", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        assert self._trim is not None
        while True:
            with self._cond:
                while not self._pending or (left := self._last + self.idle_s - time.monotonic()) > 0:
                    self._cond.wait(None if not self._pending else left)
                self._pending = False
            if gc.get_freeze_count():  # a server set its start-up heap aside: a full collection takes milliseconds
                gc.collect()  # what ended conversations left in reference cycles goes before memory is handed back
            self._trim(0)
            self.trims += 1


def _malloc_trim() -> Any:
    """glibc's malloc_trim, or None where there is none (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


idle_trim = IdleTrim()  # one per process: malloc_trim acts on the whole process


def trim_soon() -> None:
    """Much memory was just freed (a model dropped): hand it back to the system once things are quiet."""
    idle_trim.busy()
