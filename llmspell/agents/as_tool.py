"""An agent as a tool another agent can call (``Agent.wrap_as_tool``).

The tool takes ``{input = "..."}`` and returns the agent's answer text. Agents reached through
such tools are nested; past ``max_depth`` levels the call fails, so agents that call each other
(or themselves) cannot recurse without end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.agents.nesting import agent_depth, nested_agent
from llmspell.core.errors import ToolError
from llmspell.tools.base import ToolContext, ToolResult
from llmspell.tools.callable_tool import CallableTool

if TYPE_CHECKING:
    from llmspell.agents.agent import Agent

DEFAULT_MAX_DEPTH = 4


class AgentTool(CallableTool):
    """A tool whose work is one call of ``agent``."""

    def __init__(
        self,
        agent: Agent,
        name: str | None = None,
        description: str | None = None,
        *,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        tool_name = name or agent.name
        super().__init__(
            tool_name,
            description or agent.description or f"Ask the agent '{agent.name}' and get its answer",
            {
                "type": "object",
                "properties": {
                    "input": {"type": "string", "description": "What to ask the agent"},
                },
                "required": ["input"],
            },
            self._ask,
            category="agent",
            tags=("agent",),
        )
        self.agent = agent
        self.max_depth = max_depth

    async def _ask(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        if agent_depth() >= self.max_depth:
            raise ToolError(
                f"agent tool '{self.name}': agents are nested {self.max_depth} deep, the limit "
                "(do agents call each other in a loop?)"
            )
        with nested_agent():
            output = await self.agent.execute(params["input"])
        metadata = output.get("metadata", {})
        return ToolResult(
            result=output.get("text", ""),
            text=output.get("text", ""),
            metadata={"agent": self.agent.name, **metadata},
        )


def wrap_as_tool(
    agent: Agent,
    tool_name: str | None = None,
    description: str | None = None,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> AgentTool:
    """``agent`` as a tool (named after the agent unless ``tool_name`` is given), ready to
    register in a ``ToolRegistry`` and to list in another agent's ``allowed_tools``."""
    return AgentTool(agent, tool_name, description, max_depth=max_depth)
