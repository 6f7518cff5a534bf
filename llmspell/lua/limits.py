"""The limits of one script run and the clock that enforces them."""

from __future__ import annotations

import time
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

    __slots__ = ("_cancel", "_deadline", "_segment_start", "cpu_used", "limits", "started")

    def __init__(self, limits: RunLimits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self._deadline = self.started + limits.wall_seconds
        self.cpu_used = 0.0
        self._segment_start = 0.0
        self._cancel: str | None = None

    def restart(self) -> None:
        """A fresh budget (CPU and wall clock) for the next piece of work."""
        self.started = time.monotonic()
        self._deadline = self.started + self.limits.wall_seconds
        self.cpu_used = 0.0

    def enter(self) -> None:
        self._segment_start = time.thread_time()

    def leave(self) -> None:
        self.cpu_used += time.thread_time() - self._segment_start

    def cancel(self, reason: str = "cancelled") -> None:
        self._cancel = reason

    @property
    def wall_remaining(self) -> float:
        return self._deadline - time.monotonic()

    def tick(self) -> tuple[str, bytes] | None:
        if self.cpu_used + (time.thread_time() - self._segment_start) > self.limits.cpu_seconds:
            return "timeout", self.cpu_message()
        if time.monotonic() > self._deadline:
            return "timeout", self.wall_message()
        if self._cancel is not None:
            return "cancelled", self._cancel.encode()
        return None

    def cpu_message(self) -> bytes:
        return f"timeout: CPU time limit of {self.limits.cpu_seconds:g} s exceeded".encode()

    def wall_message(self) -> bytes:
        return f"timeout: wall-clock limit of {self.limits.wall_seconds:g} s exceeded".encode()
