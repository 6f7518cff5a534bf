"""``Streaming.create(fn)``: a pull stream over a generator function (pure Lua)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge


def install(bridge: Bridge) -> None:
    bridge.define_global("Streaming", {}, lua_file="streaming.lua")
