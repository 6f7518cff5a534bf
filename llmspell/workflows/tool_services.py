"""Step services backed by llmspell's tool registry and state store.

Tool steps run exactly like ``Tool.execute``: same registry, same permission policy and mode.
``{{state.<key>}}`` reads through ``read_state`` (e.g. the ``global`` scope of the state
store, opened on first use). Checkpoints go to a ``WorkflowRunStore`` when one is given. Agent
steps need the agent layer and are refused with a clear error until those services provide them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError
from llmspell.workflows.model import Step, Workflow
from llmspell.workflows.services import BaseServices, EventFunction, maybe_await

if TYPE_CHECKING:
    from llmspell.tools.permissions import PermissionPolicy
    from llmspell.tools.registry import ToolRegistry
    from llmspell.workflows.persistence import WorkflowRunStore


class ToolRegistryServices(BaseServices):
    """Tools from ``registry`` under ``policy``; ``{{state.<key>}}`` from ``read_state``;
    checkpoints in ``checkpoints`` (none are kept without it)."""

    def __init__(
        self,
        registry: ToolRegistry,
        policy: PermissionPolicy,
        *,
        read_state: Callable[[str], Any] | None = None,
        on_event: EventFunction | None = None,
        checkpoints: WorkflowRunStore | None = None,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.read_state = read_state
        self.on_event = on_event
        self.checkpoints = checkpoints

    async def call_tool(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        result = await self.registry.execute(name, params, self.policy.context())
        return result.to_dict()

    async def call_agent(self, agent: Any, input: Any) -> dict[str, Any]:
        raise NotFoundError(
            f"agent {agent!r}: agent steps cannot run here yet (no agent services available)"
        )

    def state_get(self, key: str) -> Any:
        return None if self.read_state is None else self.read_state(key)

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        if self.on_event is not None:
            await maybe_await(self.on_event(event, data))

    async def checkpoint(self, run_id: str, workflow_hash: str, payload: dict[str, Any]) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.checkpoint(run_id, workflow_hash, payload)

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        if self.checkpoints is None:
            return None
        return await self.checkpoints.load_checkpoint(run_id, workflow_hash)


def iter_steps(workflow: Workflow) -> Iterator[tuple[Workflow, Step]]:
    """Every step of ``workflow`` and of its nested workflows, with the workflow holding it."""
    for step in workflow.all_steps():
        yield workflow, step
        if step.workflow is not None:
            yield from iter_steps(step.workflow)


def unknown_tools(workflow: Workflow, registry: ToolRegistry) -> list[str]:
    """Messages for tool steps whose tool ``registry`` does not know. Names of MCP tools
    (``<server>.<tool>`` of a configured server) are not checked: their server is not started."""
    servers = set(registry.mcp.server_names) if registry.mcp is not None else set()
    problems = []
    for holder, step in iter_steps(workflow):
        tool = step.tool
        if step.kind != "tool" or tool is None or registry.exists(tool):
            continue
        if "." in tool and tool.split(".", 1)[0] in servers:
            continue
        problems.append(f"workflow '{holder.name}', step '{step.name}': tool '{tool}' not found")
    return problems
