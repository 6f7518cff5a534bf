"""The limits of one script run and the clock that enforces them."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llmspell.core.config import RuntimeConfig
from llmspell.core.errors import ValidationError

LIMIT_KEYS = ("cpu_seconds", "wall_seconds", "memory_mb", "output_bytes")


@dataclass(frozen=True)
class RunLimits:
    cpu_seconds: float = 30.0
    wall_seconds: float = 300.0
    memory_mb: float = 64.0
    output_bytes: int = 1024 * 1024

    @classmethod
    def from_config(
        cls, runtime: RuntimeConfig, overrides: dict[str, Any] | None = None
    ) -> RunLimits:
        values: dict[str, Any] = {k: getattr(runtime, k) for k in LIMIT_KEYS}
        for key, value in (overrides or {}).items():
            if key not in LIMIT_KEYS:
                raise ValidationError(
                    f"limits: unknown limit '{key}' (known: {', '.join(LIMIT_KEYS)})"
                )
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValidationError(f"limits: '{key}' must be a positive number, got {value!r}")
            values[key] = value
        values["output_bytes"] = int(values["output_bytes"])
        return cls(**values)

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_mb * 1024 * 1024)


class LimitClock:
    """Counts the CPU time spent inside Lua and watches the wall-clock deadline.

    The driver brackets every resume of a script coroutine with ``enter``/``leave``; the Lua
    count hook calls ``tick`` every few thousand instructions. CPU time is this thread's
    (``time.thread_time``), so work done by other threads of the process (a local model server,
    another run's I/O) is not charged to the script.
    """

    __slots__ = (
        "_cancel",
        "_check",
        "_deadline",
        "_next_check",
        "_segment_start",
        "check_interval",
        "cpu_used",
        "limits",
        "started",
    )

    def __init__(self, limits: RunLimits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self._deadline = self.started + limits.wall_seconds
        self.cpu_used = 0.0
        self._segment_start = 0.0
        self._cancel: str | None = None
        self._check: Callable[[], bool] | None = None
        self._next_check = math.inf
        self.check_interval = 1.0

    def restart(self) -> None:
        """A fresh budget (CPU and wall clock) for the next piece of work."""
        self.started = time.monotonic()
        self._deadline = self.started + self.limits.wall_seconds
        self.cpu_used = 0.0

    def expire_within(self, seconds: float) -> None:
        """Bring the wall-clock deadline forward to ``seconds`` from now: the run's time started
        counting elsewhere (prepared in a parent process, run in a worker)."""
        self._deadline = min(self._deadline, time.monotonic() + max(seconds, 0.0))

    def enter(self) -> None:
        self._segment_start = time.thread_time()

    def leave(self) -> None:
        self.cpu_used += time.thread_time() - self._segment_start

    def cancel(self, reason: str = "cancelled") -> None:
        self._cancel = reason

    def watch(self, check: Callable[[], bool], interval: float = 1.0) -> None:
        """Ask ``check`` at most once per ``interval`` seconds whether the run must stop (a
        cancel requested from outside the process); ``poll`` and ``tick`` ask it."""
        self._check = check
        self.check_interval = interval
        self._next_check = time.monotonic() + interval

    @property
    def watched(self) -> bool:
        return self._check is not None

    @property
    def seconds_to_check(self) -> float:
        """How long until the watch check is due (a little over, so that it is due then)."""
        return max(self._next_check - time.monotonic(), 0.0) + 0.001

    def poll(self) -> bool:
        """True when the run is cancelled, asking the watch check first if it is due."""
        now = time.monotonic()
        if self._check is not None and now >= self._next_check:
            self._next_check = now + self.check_interval
            if self._check():
                self.cancel()
        return self._cancel is not None

    @property
    def wall_remaining(self) -> float:
        return self._deadline - time.monotonic()

    def tick(self) -> bytes | None:
        """Called by the count hook: why the run must stop (``cpu``, ``wall``, ``cancelled`` or
        ``interrupted``), or None. The sandbox holds the messages: the answer is a short string
        Lua already has, so handing it over allocates nothing (the VM may be at its memory limit).

        Nothing raised here may reach Lua (it would arrive as a Python object a ``pcall`` could
        keep): a ``KeyboardInterrupt`` delivered while Lua runs becomes an interruption.
        """
        try:
            if self.cpu_used + (time.thread_time() - self._segment_start) > self.limits.cpu_seconds:
                return b"cpu"
            now = time.monotonic()
            if now > self._deadline:
                return b"wall"
            if now >= self._next_check:
                self.poll()
        except BaseException:
            self._cancel = self._cancel or "interrupted"
        if self._cancel is not None:
            return b"interrupted" if self._cancel == "interrupted" else b"cancelled"
        return None

    def cpu_message(self) -> bytes:
        return f"timeout: CPU time limit of {self.limits.cpu_seconds:g} s exceeded".encode()

    def wall_message(self) -> bytes:
        return f"timeout: wall-clock limit of {self.limits.wall_seconds:g} s exceeded".encode()


# -- Bounds the sandbox enforces inside one run (not configurable: they keep single operations
# -- of a script small enough for the CPU and memory limits to act on them) ---------------------
HOOK_COUNT = 10_000
"""Instructions between two limit checks: ~0.1 ms of Lua, measured to cost <5% of a tight loop."""

MIN_HOOK_COUNT = 500
HOOK_MEMORY_KB = 2048
"""Above this much Lua memory, the interval shrinks in proportion (down to ``MIN_HOOK_COUNT``):
instructions on big values are slow, and the time between two checks must stay short."""

WORK_TICK_NS = 2_000_000
"""Estimated work inside C library calls (pattern matching, sorting, shifting tables ...) after
which the limits are checked, whatever the instruction count says."""

PATTERN_BUDGET = 20_000_000
"""Matcher steps one call of ``string.find/match/gmatch/gsub`` may take inside Lua's C matcher
(about 0.2 s at worst); a call whose bound is higher runs on the interruptible Lua matcher."""

MAX_HOST_ARGS = 250
"""Arguments of one call to a host function: converting tens of thousands takes seconds with the
GIL held, so more are refused before any conversion."""

MAX_UNPACK = 100_000
"""Values one ``table.unpack`` may return."""

MAX_TASKS = 10_000
"""Script tasks (``spawn``, ``parallel``) alive at once in one run."""

SORT_IN_C = 50_000
"""Longer arrays are sorted with a Lua comparison function, so the hook sees the work."""

MAX_ERROR_BYTES = 8 * 1024
"""Longest error message kept; longer ones are cut with a marker."""

MAX_FUNCTION_REFS = 10_000
"""Lua functions the host may hold for one run (hooks, Lua tools, callbacks)."""


def larger_than(value: Any, limit: int) -> bool:
    """Whether plain data ``value`` takes more than ``limit`` bytes (an estimate: the bytes of its
    strings plus 16 per container slot; stops as soon as it is over)."""
    left, stack = limit, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            left -= len(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
            left -= 16 * len(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
            left -= 16 * len(item)
        if left < 0:
            return True
    return False


def memory_reserve(memory_bytes: int) -> int:
    """Memory kept free for the host's own work in the Lua VM (converting results, error
    messages): a host call made with less than this left ends the script with the memory limit,
    because an allocation failure inside that work cannot be recovered cleanly."""
    return max(64 * 1024, min(1024 * 1024, memory_bytes // 8))


def memory_message(limits: RunLimits) -> str:
    return f"memory: memory limit of {limits.memory_mb:g} MiB exceeded"


def truncate_message(text: str) -> str:
    """``text`` cut to ``MAX_ERROR_BYTES`` (in UTF-8) with a marker saying how long it was."""
    data = text.encode("utf-8", "surrogateescape")
    if len(data) <= MAX_ERROR_BYTES:
        return text
    kept = data[:MAX_ERROR_BYTES].decode("utf-8", "ignore")
    return f"{kept}\n[error message truncated: {len(data)} bytes]"


def sandbox_options(limits: RunLimits, runtime: RuntimeConfig) -> dict[bytes, Any]:
    """The options of the sandbox prelude (``prelude/sandbox.lua``) for one run."""
    memory = limits.memory_bytes
    return {
        b"hook_count": HOOK_COUNT,
        b"min_hook_count": MIN_HOOK_COUNT,
        b"hook_memory_kb": HOOK_MEMORY_KB,
        b"work_tick": WORK_TICK_NS,
        b"max_string_bytes": memory,
        b"max_table_items": runtime.max_table_items,
        b"memory_message": memory_message(limits).encode(),
        b"cpu_message": LimitClock(limits).cpu_message(),
        b"wall_message": LimitClock(limits).wall_message(),
        b"memory_ceiling_kb": (memory - memory_reserve(memory)) / 1024,
        b"pattern_budget": PATTERN_BUDGET,
        b"max_args": MAX_HOST_ARGS,
        b"max_unpack": MAX_UNPACK,
        b"max_tasks": MAX_TASKS,
        b"sort_in_c": SORT_IN_C,
        b"max_error_bytes": MAX_ERROR_BYTES,
    }
