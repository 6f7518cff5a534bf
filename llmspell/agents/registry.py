"""``AgentRegistry``: the agents of a run, by name (``Agent.get``, ``Agent.list`` ...)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from llmspell.agents.agent import Agent


class AgentRegistry:
    """Agents by name. Registering a name again replaces the earlier agent, as a script that
    creates the same agent twice expects, unless ``replace`` is false."""

    def __init__(self) -> None:
        self._agents: dict[str, Agent] = {}

    def register(self, agent: Agent, *, replace: bool = True) -> str:
        """Add ``agent`` under its name; returns the name."""
        name = agent.name
        if not replace and name in self._agents and self._agents[name] is not agent:
            raise ValidationError(f"agent '{name}' is already registered")
        self._agents[name] = agent
        return name

    def unregister(self, name: str) -> bool:
        """Remove an agent; false when none has that name."""
        return self._agents.pop(name, None) is not None

    def find(self, name: str) -> Agent | None:
        return self._agents.get(name)

    def get(self, name: str) -> Agent:
        """The agent called ``name``; ``NotFound`` otherwise."""
        agent = self._agents.get(name)
        if agent is None:
            known = ", ".join(sorted(self._agents)) or "none"
            raise NotFoundError(f"agent '{name}' not found (registered agents: {known})")
        return agent

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def list(self) -> list[dict[str, Any]]:
        """``get_info`` of every agent, sorted by name."""
        return [self._agents[name].info() for name in sorted(self._agents)]

    def list_instances(self) -> builtins.list[str]:
        """The names of the registered agents, sorted."""
        return sorted(self._agents)

    def get_info(self, name: str) -> dict[str, Any]:
        """``{name, description, type, provider, model, allowed_tools, supports_streaming,
        supports_multimodal}``."""
        return self.get(name).info()
