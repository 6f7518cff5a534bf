"""What the executor needs from the rest of llmspell, as one protocol.

The executor never touches concrete tool, agent, state or hook classes: it asks its
``StepServices``. The Lua layer provides services that run function handles as script
coroutines; ``PythonServices`` runs plain Python callables, for programs and tests.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from llmspell.core.errors import NotFoundError, StateError, ToolNotFound, WorkflowError
from llmspell.workflows.progress import replay
from llmspell.workflows.references import stringify


class StepServices(Protocol):
    """The operations a workflow run performs outside itself."""

    async def call_tool(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run tool ``name``; returns the tool result ``{success, result, text, ...}``."""
        ...

    async def call_agent(self, agent: Any, input: Any) -> dict[str, Any]:
        """Run an agent (object, name or model spec) on ``input``; returns ``{text, metadata,
        ...}``."""
        ...

    async def call_function(self, fn: Any, ctx: dict[str, Any]) -> Any:
        """Run a function step or a condition function with ``ctx``; returns its value."""
        ...

    def state_get(self, key: str) -> Any:
        """The value of ``{{state.<key>}}``; ``None`` when the key is not set."""
        ...

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        """Publish an event (``workflow.started``, ``workflow.step.completed`` ...)."""
        ...

    async def run_hooks(self, point: str, data: dict[str, Any]) -> dict[str, Any]:
        """Run the hooks of ``point``; returns ``data``, possibly modified, or raises
        ``Cancelled``."""
        ...

    async def checkpoint(self, run_id: str, workflow_hash: str, record: dict[str, Any]) -> None:
        """Append one record (``progress``: a finished step or loop iteration) to the run's
        checkpoint. ``record`` shares objects with the live run: serialize or copy it before
        returning."""
        ...

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        """The progress ``progress.replay`` rebuilds from the records saved for ``run_id`` and
        this definition, or ``None`` when there are none."""
        ...


class BaseServices:
    """Defaults for every service but tools and agents: Python callables for functions, no
    state, no events, pass-through hooks, no checkpoints. Subclass and override."""

    async def call_tool(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        raise ToolNotFound(f"tool '{name}' not found")

    async def call_agent(self, agent: Any, input: Any) -> dict[str, Any]:
        raise NotFoundError(f"no agent service can run agent {agent!r}")

    async def call_function(self, fn: Any, ctx: dict[str, Any]) -> Any:
        if not callable(fn):
            raise TypeError(f"a function step needs a callable, got {type(fn).__name__}")
        result = fn(ctx)
        if inspect.isawaitable(result):
            result = await result
        return result

    def state_get(self, key: str) -> Any:
        return None

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        return None

    async def run_hooks(self, point: str, data: dict[str, Any]) -> dict[str, Any]:
        return data

    async def checkpoint(self, run_id: str, workflow_hash: str, record: dict[str, Any]) -> None:
        return None

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        return None


ToolFunction = Callable[[dict[str, Any]], Any]
AgentFunction = Callable[[Any], Any]
HookFunction = Callable[[str, dict[str, Any]], Any]
EventFunction = Callable[[str, dict[str, Any]], Any]


class PythonServices(BaseServices):
    """Services from plain Python values, for programs without Lua and for tests.

    - ``tools``: name → callable of ``params`` (sync or async). A returned dict with a
      ``success`` key is the tool result; any other value ``v`` becomes
      ``{success=true, result=v, text=<v as text>}``.
    - ``agents``: name → callable of ``input`` or object with an ``execute(input)`` method; a
      step's ``agent`` may also be such a callable or object directly. A string result ``s``
      becomes ``{text=s}``; an object with ``to_data()`` is converted with it.
    - ``state``: the values of ``{{state.<key>}}``.
    - ``hooks``: ``fn(point, data)`` returning the (possibly modified) data or ``None``.
    - ``on_event``: ``fn(event, data)`` called for each event.
    - checkpoint records are kept in memory (deep copies), so resuming works within the
      process; as with the state store, resuming a run whose definition changed raises
      ``StateError``.
    """

    def __init__(
        self,
        *,
        tools: Mapping[str, ToolFunction] | None = None,
        agents: Mapping[str, Any] | None = None,
        state: Mapping[str, Any] | None = None,
        hooks: HookFunction | None = None,
        on_event: EventFunction | None = None,
    ) -> None:
        self.tools = dict(tools or {})
        self.agents = dict(agents or {})
        self.state = dict(state or {})
        self.hooks = hooks
        self.on_event = on_event
        self.checkpoints: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        """Run id → (workflow hash, records); a run of another definition replaces them."""

    async def call_tool(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        fn = self.tools.get(name)
        if fn is None:
            raise ToolNotFound(f"tool '{name}' not found")
        return tool_result(await maybe_await(fn(params)))

    async def call_agent(self, agent: Any, input: Any) -> dict[str, Any]:
        target = self.agents.get(agent) if isinstance(agent, str) else agent
        if target is None:
            raise NotFoundError(f"agent '{agent}' not found")
        run = getattr(target, "execute", target)
        if not callable(run):
            raise NotFoundError(f"agent {agent!r} cannot be executed")
        return agent_output(await maybe_await(run(input)))

    def state_get(self, key: str) -> Any:
        return self.state.get(key)

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        if self.on_event is not None:
            await maybe_await(self.on_event(event, data))

    async def run_hooks(self, point: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.hooks is None:
            return data
        changed = await maybe_await(self.hooks(point, data))
        return data if changed is None else dict(changed)

    async def checkpoint(self, run_id: str, workflow_hash: str, record: dict[str, Any]) -> None:
        saved = self.checkpoints.get(run_id)
        if saved is None or saved[0] != workflow_hash:
            saved = self.checkpoints[run_id] = (workflow_hash, [])
        saved[1].append(copy.deepcopy(record))

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        saved = self.checkpoints.get(run_id)
        if saved is None:
            return None
        if saved[0] != workflow_hash:
            raise StateError(
                f"checkpoint of {run_id}: workflow definition changed since the checkpoint"
            )
        return replay(copy.deepcopy(saved[1]))


def tool_result(value: Any) -> dict[str, Any]:
    """A tool's return value as a tool result dict ``{success, result, text, ...}``."""
    if isinstance(value, dict) and "success" in value:
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        data = to_dict()
        if isinstance(data, dict) and "success" in data:
            return data
    return {"success": True, "result": value, "text": stringify(value)}


def agent_output(value: Any) -> dict[str, Any]:
    """An agent's return value as an output dict ``{text, metadata, ...}``."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return {"text": value, "metadata": {}}
    to_data = getattr(value, "to_data", None)
    if callable(to_data):
        data = to_data()
        if isinstance(data, dict):
            return data
    raise WorkflowError(f"an agent returned {type(value).__name__}, expected text or a table")


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
