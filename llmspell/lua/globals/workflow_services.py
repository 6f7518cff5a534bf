"""The step services of workflows run from a script.

Tool steps run through the run's tools (``Tool.execute``'s registry, permissions and mode).
Function steps and function conditions are Lua functions run as script tasks: an error in one
is a ``ScriptError`` with the Lua message, and a run limit or a cancellation cancels the
workflow. ``{{state.<key>}}`` reads the ``global`` State scope; checkpoints and run records go
to the host's store, opened on first use. Agent steps go through ``bridge.run.agents``, an
object with ``async execute(agent, input) -> dict`` that the Agent global installs: ``agent`` is
an agent name, or the fields of an agent instance table (without its class).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import Cancelled, ScriptError, ValidationError
from llmspell.lua.convert import LuaFunctionRef
from llmspell.lua.scheduler import RunAborted, TaskFailed
from llmspell.workflows.references import type_name
from llmspell.workflows.services import BaseServices

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.state.state import StateStore
    from llmspell.workflows.persistence import WorkflowRunStore


class ScriptStepServices(BaseServices):
    """What the workflows of one script run reach outside themselves."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge
        self._state: StateStore | None = None
        self._records: WorkflowRunStore | None = None

    @property
    def records(self) -> WorkflowRunStore:
        """Run records and checkpoints in the host's store."""
        if self._records is None:
            from llmspell.workflows.persistence import WorkflowRunStore

            self._records = WorkflowRunStore(self._bridge.services.store)
        return self._records

    async def call_tool(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        tools = self._bridge.run.tools  # type: ignore[attr-defined]
        result = await tools.registry.execute(name, params, tools.context)
        data: dict[str, Any] = result.to_dict()
        return data

    async def call_agent(self, agent: Any, input: Any) -> dict[str, Any]:
        agents = getattr(self._bridge.run, "agents", None)  # type: ignore[attr-defined]
        if agents is None:
            raise ValidationError(
                f"agent step: cannot run agent {_agent_label(agent)}: agents are not available "
                "in this run (the Agent global is not installed)"
            )
        output: dict[str, Any] = await agents.execute(agent, input)
        return output

    async def call_function(self, fn: Any, ctx: dict[str, Any]) -> Any:
        if not isinstance(fn, LuaFunctionRef):
            raise ValidationError(
                f"step '{ctx.get('step') or 'condition'}': expected a function, got {type_name(fn)}"
            )
        try:
            return await fn(ctx)
        except RunAborted as exc:  # a run limit, a cancellation or os.exit: stop the workflow
            raise Cancelled(exc.message) from None
        except TaskFailed as exc:
            raise ScriptError(exc.message, exc.kind) from None

    def state_get(self, key: str) -> Any:
        if self._state is None:
            from llmspell.state.state import StateStore

            self._state = StateStore(self._bridge.services.store)
        return self._state.load("global", key)

    async def run_hooks(self, point: str, data: dict[str, Any]) -> dict[str, Any]:
        """The run's hooks (the script's ``Hook.register`` and the host's)."""
        context = self._bridge.run.context  # type: ignore[attr-defined]
        fired: dict[str, Any] = await context.workflow_hooks(point, data)
        return fired

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        """Publish on the run's event bus (``Event.subscribe("workflow.*")``)."""
        self._bridge.run.context.emit(event, data)  # type: ignore[attr-defined]

    async def checkpoint(self, run_id: str, workflow_hash: str, payload: dict[str, Any]) -> None:
        await self.records.checkpoint(run_id, workflow_hash, payload)

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        return await self.records.load_checkpoint(run_id, workflow_hash)


def _agent_label(agent: Any) -> str:
    if isinstance(agent, dict):
        name = agent.get("name")
        return f"'{name}'" if isinstance(name, str) else "(an agent table)"
    return f"'{agent}'" if isinstance(agent, str) else f"({type_name(agent)})"
