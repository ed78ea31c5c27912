"""Streaming chat model with a reusable KV cache for the (long, fixed) system prompt.

Usage::

    m = ChatModel()                       # packaged Qwen2.5 0.5B, CPU, float32
    m.warm(SYSTEM)                        # optional: prefill the system prompt once
    for piece in m.stream(SYSTEM, "Facts: ...\\nQuestion: ..."):
        print(piece, end="", flush=True)
    print(m.last_timings)

Design:

* The prompt is the tokenizer's chat template over ``[system, user]`` with the generation prompt.
  The system-only rendering ``[system]`` is tokenized separately and its KV cache computed once per
  distinct system string (small LRU). Each call copies that cache and feeds only the tokens after the
  longest common token prefix, so the prefix reuse is exact even if the template or the tokenizer
  merges differently at the boundary (then fewer tokens are reused; none -> full prefill).
* Manual greedy decode loop (no ``generate()``, no thread); text is yielded incrementally and only
  once it decodes without a trailing U+FFFD, so multi-byte (Chinese) characters are never split.
* Forward passes are serialized with a lock: several ``stream()`` generators may be alive at once
  (each owns its cache copy), but only one forward runs at a time.
* Heavy imports (torch, transformers) happen in ``__init__``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .weights import ModelError, resolve_model

__all__ = ["ChatModel", "ModelError"]

_REPLACEMENT = "\ufffd"


@dataclass
class _Prefix:
    ids: list[int]
    cache: Any  # transformers DynamicCache holding the KV of ``ids`` (never mutated after creation)
    build_ms: float


class ChatModel:
    """A causal LM that streams greedy completions for ``(system, user)`` chats."""

    max_cached_prefixes = 4

    def __init__(
        self,
        source: str | None = None,
        *,
        device: str = "cpu",
        threads: int | None = None,
        cache_dir: Path | None = None,
        dtype: str = "auto",
    ) -> None:
        """Load the model.

        ``dtype``: "auto" (CUDA: bfloat16, or float16 without bf16 support; CPU: bfloat16 when the CPU
        has native bf16 matmuls (AVX512-BF16/AMX, measured ~2x faster than float32 here), else float32),
        or one of "float32", "bfloat16", "float16". ``threads`` sets ``torch.set_num_threads``
        (process-wide; default ``os.cpu_count()``).
        """
        t0 = time.perf_counter()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a progress bar per start is noise in the agent's log

        self._torch = torch
        self.model_dir = resolve_model(source, cache_dir)
        t_resolved = time.perf_counter()

        self.threads = int(threads) if threads else (os.cpu_count() or 1)
        torch.set_num_threads(self.threads)  # process-wide setting

        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ModelError("device='cuda' was requested but torch sees no CUDA device.")
        self.dtype = _pick_dtype(torch, self.device, dtype)

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
            model = AutoModelForCausalLM.from_pretrained(str(self.model_dir), dtype=self.dtype)
        except OSError as exc:
            raise ModelError(f"Cannot load the model from {self.model_dir}: {exc}") from exc
        self.model = model.to(self.device).eval()  # type: ignore[arg-type]
        self.config = self.model.config

        self.eos_ids = self._collect_eos_ids()
        self._lock = threading.Lock()
        self._prefixes: OrderedDict[str, _Prefix] = OrderedDict()
        self.load_seconds = round(time.perf_counter() - t0, 3)
        self.resolve_seconds = round(t_resolved - t0, 3)
        self.last_timings: dict[str, Any] = {}

    # ------------------------------------------------------------------ public

    def warm(self, system: str) -> None:
        """Precompute and keep the KV cache of the system-prompt prefix (idempotent)."""
        self._get_prefix(system)

    def stream(
        self,
        system: str,
        user: str,
        *,
        max_new_tokens: int = 96,
        cancel: threading.Event | None = None,
        reuse_prefix: bool = True,
    ) -> Iterator[str]:
        """Yield decoded text pieces of the greedy answer; stops at EOS, ``cancel`` or ``max_new_tokens``.

        After the generator finishes (or is closed), ``last_timings`` holds: ``prompt_tokens``,
        ``cached_prefix_tokens``, ``prefix_build_ms`` (0 unless the system prefix was computed by this
        call), ``prefill_ms`` (forward over the uncached prompt tokens), ``first_token_ms`` (call start
        -> first text piece), ``tokens`` (generated, EOS excluded), ``decode_ms``, ``decode_tok_per_s``,
        ``decode_steps``, ``total_ms``, ``stop_reason`` ("eos" | "max_tokens" | "cancel" | "closed").
        ``decode_tok_per_s`` counts only the one-token forward passes (not the consumer's time).
        ``reuse_prefix=False`` forces a full prefill (for comparisons/benchmarks).
        """
        return self._stream(system, user, max_new_tokens=max_new_tokens, cancel=cancel, reuse_prefix=reuse_prefix)

    def generate(self, system: str, user: str, **kwargs: Any) -> str:
        """Convenience: the whole streamed answer as one string."""
        return "".join(self.stream(system, user, **kwargs))

    # ------------------------------------------------------------------ prompt handling

    def _render(self, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
        if not isinstance(text, str):
            raise ModelError("The tokenizer's chat template did not render a string.")
        return text

    def _encode(self, text: str) -> list[int]:
        # the chat template already contains every special token (BOS etc.)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prompt_ids(self, system: str, user: str) -> list[int]:
        try:
            text = self._render([{"role": "system", "content": system}, {"role": "user", "content": user}], True)
        except Exception:  # templates without a system role: fold it into the user turn
            text = self._render([{"role": "user", "content": f"{system}\n\n{user}"}], True)
        return self._encode(text)

    def _prefix_ids(self, system: str) -> list[int]:
        try:
            text = self._render([{"role": "system", "content": system}], False)
        except Exception:
            return []
        return self._encode(text)

    def _get_prefix(self, system: str) -> tuple[_Prefix, bool]:
        """Return (prefix, built_now). Thread-safe; builds under the forward lock."""
        torch = self._torch
        with self._lock:
            entry = self._prefixes.get(system)
            if entry is not None:
                self._prefixes.move_to_end(system)
                return entry, False
            t0 = time.perf_counter()
            ids = self._prefix_ids(system)
            from transformers import DynamicCache

            cache = DynamicCache(config=self.config)
            if ids:
                with torch.inference_mode():
                    # the base model only: no lm_head needed for a prefix
                    self.model.model(
                        input_ids=torch.tensor([ids], device=self.device),
                        past_key_values=cache,
                        use_cache=True,
                    )
            entry = _Prefix(ids=ids, cache=cache, build_ms=(time.perf_counter() - t0) * 1000)
            self._prefixes[system] = entry
            while len(self._prefixes) > self.max_cached_prefixes:
                self._prefixes.popitem(last=False)
            return entry, True

    def _copy_cache(self, prefix: _Prefix, keep: int):
        """A fresh DynamicCache with the first ``keep`` positions of ``prefix``'s KV (the stored one is untouched)."""
        from transformers import DynamicCache

        if keep <= 0:
            return self._new_cache()
        data = [(k[..., :keep, :], v[..., :keep, :]) for k, v, *_ in prefix.cache]
        # DynamicLayer.update() concatenates onto an empty tensor -> new storage, not a view
        return DynamicCache(ddp_cache_data=data, config=self.config)

    def _new_cache(self):
        from transformers import DynamicCache

        return DynamicCache(config=self.config)

    # ------------------------------------------------------------------ decoding

    def _collect_eos_ids(self) -> set[int]:
        ids: set[int] = set()

        def add(v: Any) -> None:
            if v is None:
                return
            if isinstance(v, (list, tuple, set)):
                for x in v:
                    add(x)
            else:
                ids.add(int(v))

        add(self.tokenizer.eos_token_id)
        add(getattr(self.config, "eos_token_id", None))
        gen = getattr(self.model, "generation_config", None)
        add(getattr(gen, "eos_token_id", None) if gen is not None else None)
        vocab = self.tokenizer.get_vocab()
        for tok in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"):
            if tok in vocab:
                ids.add(vocab[tok])
        return ids

    def _forward(self, input_ids: list[int], cache) -> int:
        """Run one forward step under the lock; return the greedy next token id."""
        torch = self._torch
        with self._lock, torch.inference_mode():
            out = self.model(
                input_ids=torch.tensor([input_ids], device=self.device),
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
            )
            return int(out.logits[0, -1].argmax().item())

    def _decode(self, ids: list[int]) -> str:
        text = self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return text if isinstance(text, str) else "".join(text)

    def _stream(
        self,
        system: str,
        user: str,
        *,
        max_new_tokens: int,
        cancel: threading.Event | None,
        reuse_prefix: bool,
    ) -> Iterator[str]:
        t_start = time.perf_counter()
        timings: dict[str, Any] = {
            "prompt_tokens": 0,
            "cached_prefix_tokens": 0,
            "prefix_build_ms": 0.0,
            "prefill_ms": 0.0,
            "first_token_ms": None,
            "tokens": 0,
            "decode_ms": 0.0,
            "decode_tok_per_s": None,
            "total_ms": 0.0,
            "stop_reason": "closed",
        }
        self.last_timings = timings
        if cancel is not None and cancel.is_set():
            timings["stop_reason"] = "cancel"
            return

        ids = self._prompt_ids(system, user)
        timings["prompt_tokens"] = len(ids)

        keep = 0
        prefix = None
        if reuse_prefix:
            prefix, built = self._get_prefix(system)
            if built:
                timings["prefix_build_ms"] = round(prefix.build_ms, 1)
            keep = _common_prefix_len(prefix.ids, ids)
            keep = min(keep, len(ids) - 1)  # at least one token must be fed to get logits
        cache = self._copy_cache(prefix, keep) if prefix is not None else self._new_cache()
        timings["cached_prefix_tokens"] = keep

        generated: list[int] = []
        emitted = ""
        decode_s = 0.0
        decode_steps = 0
        try:
            t0 = time.perf_counter()
            next_id = self._forward(ids[keep:], cache)
            timings["prefill_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            stop = "max_tokens"
            while True:
                if cancel is not None and cancel.is_set():
                    stop = "cancel"
                    break
                if next_id in self.eos_ids:
                    stop = "eos"
                    break
                generated.append(next_id)
                text = self._decode(generated)
                if not text.endswith(_REPLACEMENT) and len(text) > len(emitted):
                    piece = text[len(emitted) :]
                    emitted = text
                    if timings["first_token_ms"] is None:
                        timings["first_token_ms"] = round((time.perf_counter() - t_start) * 1000, 1)
                    timings["tokens"] = len(generated)
                    yield piece
                if len(generated) >= max_new_tokens:
                    break
                t1 = time.perf_counter()
                next_id = self._forward([next_id], cache)
                decode_s += time.perf_counter() - t1
                decode_steps += 1
            timings["stop_reason"] = stop
            # flush whatever decodes cleanly (a dangling partial character is dropped)
            text = self._decode(generated)
            text = text.rstrip(_REPLACEMENT)
            if len(text) > len(emitted) and stop != "cancel":
                if timings["first_token_ms"] is None:
                    timings["first_token_ms"] = round((time.perf_counter() - t_start) * 1000, 1)
                piece = text[len(emitted) :]
                emitted = text
                yield piece
        finally:
            now = time.perf_counter()
            timings["tokens"] = len(generated)
            # forward time of the one-token steps only (excludes detokenization and consumer time)
            timings["decode_ms"] = round(decode_s * 1000, 1)
            timings["decode_steps"] = decode_steps
            if decode_steps and decode_s > 0:
                timings["decode_tok_per_s"] = round(decode_steps / decode_s, 2)
            timings["total_ms"] = round((now - t_start) * 1000, 1)


def _pick_dtype(torch, device, dtype: str):
    names = {
        "float32": torch.float32,
        "fp32": torch.float32,
        "bfloat16": torch.bfloat16,
        "bf16": torch.bfloat16,
        "float16": torch.float16,
        "fp16": torch.float16,
    }
    if dtype != "auto":
        if dtype not in names:
            raise ModelError(f"Unknown dtype {dtype!r}; use auto, float32, bfloat16 or float16.")
        return names[dtype]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu":
        try:
            if torch.ops.mkldnn._is_mkldnn_bf16_supported():
                return torch.bfloat16
        except Exception:
            pass
    return torch.float32


def _common_prefix_len(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
