"""The Lua globals: one adapter module per global, each with ``install(bridge)``."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge

ADAPTERS = (
    "core",
    "json_global",
    "debug_global",
    "config_global",
    "streaming_global",
    "tool_global",
    "workflow_global",
    "state_global",
    "session_global",
    "artifact_global",
    "agent_global",
    "provider_global",
    "media_global",
    "hook_global",
    "event_global",
)


def install_all(bridge: Bridge) -> None:
    for name in ADAPTERS:
        import_module(f"{__name__}.{name}").install(bridge)
