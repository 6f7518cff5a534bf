"""``State``: JSON-shaped values kept in the store between runs, by scope and key.

Calls are synchronous: a save or load is one SQLite statement, cheaper than a scheduler wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ValidationError
from llmspell.lua.globals.calls import register

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.services import Services

GLOBAL = "global"


class RunState:
    """The State calls of one run, on the host's store (``Services.state``, opened on first
    use and then a plain attribute)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def save(self, scope: Any, key: Any, value: Any = None) -> None:
        self._services.state.save(scope, key, value)

    def load(self, scope: Any, key: Any) -> Any:
        return self._services.state.load(scope, key)

    def delete(self, scope: Any, key: Any) -> bool:
        return self._services.state.delete(scope, key)

    def list_keys(self, scope: Any, prefix: Any = None) -> list[str]:
        if prefix is not None and not isinstance(prefix, str):
            raise ValidationError(f"key prefix must be a string, got {type(prefix).__name__}")
        return self._services.state.list_keys(scope, prefix)

    def get(self, key: Any) -> Any:
        return self._services.state.load(GLOBAL, key)

    def set(self, key: Any, value: Any = None) -> None:
        self._services.state.save(GLOBAL, key, value)

    def workflow_get(self, workflow_id: Any, step: Any) -> Any:
        return self._services.state.load(_scope("workflow", workflow_id), step)

    def agent_get(self, agent: Any, key: Any) -> Any:
        return self._services.state.load(_scope("agent", agent), key)

    def agent_set(self, agent: Any, key: Any, value: Any = None) -> None:
        self._services.state.save(_scope("agent", agent), key, value)

    def tool_get(self, tool: Any, key: Any) -> Any:
        return self._services.state.load(_scope("tool", tool), key)

    def tool_set(self, tool: Any, key: Any, value: Any = None) -> None:
        self._services.state.save(_scope("tool", tool), key, value)


def _scope(kind: str, name: Any) -> str:
    from llmspell.state.state import make_scope

    if not isinstance(name, str):
        raise ValidationError(f"{kind} name must be a string, got {type(name).__name__}")
    return make_scope(kind, name)


METHODS: dict[str, tuple[str, ...]] = {
    "save": ("save",),
    "load": ("load",),
    "delete": ("delete",),
    "list_keys": ("list_keys", "listKeys"),
    "get": ("get",),
    "set": ("set",),
    "workflow_get": ("workflow_get", "workflowGet"),
    "agent_get": ("agent_get", "agentGet"),
    "agent_set": ("agent_set", "agentSet"),
    "tool_get": ("tool_get", "toolGet"),
    "tool_set": ("tool_set", "toolSet"),
}


def install(bridge: Bridge) -> None:
    bridge.define_global("State", register(bridge, RunState(bridge.services), "State", METHODS))
