"""``RegistryToolInvoker``: an agent's tool calls go through the ``ToolRegistry``.

So they get the same parameter validation, permissions, run mode, timeouts and result shape
as ``Tool.execute`` from a script.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmspell.agents.nesting import agent_depth
from llmspell.core.types import ToolSpec

if TYPE_CHECKING:
    from llmspell.tools.base import ToolContext
    from llmspell.tools.registry import ToolRegistry


class RegistryToolInvoker:
    """``ctx_factory()`` gives the ``ToolContext`` of each call (the run's policy and mode).

    A call made by an agent that itself runs inside a tool is at least as deep as the agent
    nesting, so the registry's ``max_tool_depth`` also bounds agents calling agents.
    """

    def __init__(self, registry: ToolRegistry, ctx_factory: Callable[[], ToolContext]) -> None:
        self.registry = registry
        self._ctx_factory = ctx_factory

    async def specs(self, names: list[str]) -> list[ToolSpec]:
        """Specs of ``names``; starts the MCP servers of ``<server>.<tool>`` names first."""
        await self.registry.prepare(names)
        return [ToolSpec.model_validate(spec) for spec in self.registry.specs(names)]

    async def invoke(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        ctx = self._ctx_factory()
        ctx.depth = max(ctx.depth, agent_depth())
        result = await self.registry.execute(name, params, ctx)
        return result.to_dict()
