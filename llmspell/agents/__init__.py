"""Agents: a model with a prompt, a conversation, tools and limits, driven from Python or Lua.

Names are imported on first use (``from llmspell.agents import Agent`` loads pydantic and the
core types then, not when the package is imported).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmspell.agents.agent import Agent
    from llmspell.agents.as_tool import AgentTool, wrap_as_tool
    from llmspell.agents.config import AgentConfig
    from llmspell.agents.factory import build_agent
    from llmspell.agents.registry import AgentRegistry
    from llmspell.agents.tool_invoker import RegistryToolInvoker

_EXPORTS = {
    "Agent": "llmspell.agents.agent",
    "AgentConfig": "llmspell.agents.config",
    "AgentRegistry": "llmspell.agents.registry",
    "AgentTool": "llmspell.agents.as_tool",
    "RegistryToolInvoker": "llmspell.agents.tool_invoker",
    "build_agent": "llmspell.agents.factory",
    "wrap_as_tool": "llmspell.agents.as_tool",
}

__all__ = [
    "Agent",
    "AgentConfig",
    "AgentRegistry",
    "AgentTool",
    "RegistryToolInvoker",
    "build_agent",
    "wrap_as_tool",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmspell.agents' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
