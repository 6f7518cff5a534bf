"""``Debug``: levelled logging to the run's stderr, timers and value dumps."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import LimitExceeded, ValidationError

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge

LEVELS = ("trace", "debug", "info", "warn", "error")


class DebugLog:
    def __init__(self, write: Any, level: str = "info") -> None:
        self._write = write
        self.level = level

    def log(self, level: Any, message: Any = None) -> None:
        if message is None:
            level, message = "info", level
        level = str(level).lower()
        if level == "warning":
            level = "warn"
        if level not in LEVELS:
            raise ValidationError(f"Debug.log: unknown level '{level}' (use {', '.join(LEVELS)})")
        if LEVELS.index(level) >= LEVELS.index(self.level):
            text = message if isinstance(message, str) else repr(message)
            ok, error = self._write("stderr", f"[{level.upper()}] {text}\n".encode())
            if not ok:
                raise LimitExceeded(error.decode(), "output_limit")

    def set_level(self, level: Any) -> None:
        level = str(level).lower()
        if level not in LEVELS:
            raise ValidationError(
                f"Debug.setLevel: unknown level '{level}' (use {', '.join(LEVELS)})"
            )
        self.level = level

    def get_level(self) -> str:
        return self.level


def install(bridge: Bridge) -> None:
    run = bridge.run  # type: ignore[attr-defined]
    log = DebugLog(run.output.write, run.log_level)
    fns = {
        "log": bridge.sync(log.log, "Debug.log"),
        "setLevel": bridge.sync(log.set_level, "Debug.setLevel"),
        "getLevel": bridge.sync(log.get_level, "Debug.getLevel"),
        "now_ms": bridge.sync(lambda: time.perf_counter() * 1000.0, "Debug.timer"),
    }
    bridge.define_global("Debug", fns, lua_file="debug.lua")
