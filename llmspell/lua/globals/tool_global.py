"""``Tool``: run, inspect, discover and register tools (the registry is the domain layer)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import LimitExceeded, ValidationError
from llmspell.lua.limits import larger_than

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.tools.base import ToolContext
    from llmspell.tools.registry import ToolRegistry


class RunTools:
    """The tools of one run: the host's registry plus the tools the script registers."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge
        self._registry: ToolRegistry | None = None
        self._context: ToolContext | None = None

    @property
    def registry(self) -> ToolRegistry:
        if self._registry is None:
            self._registry = self._bridge.services.tools.child()
            if self._registry.mcp is not None:
                # MCP connections belong to this run's event loop: stop them when it ends.
                self._bridge.scheduler.finalizers.append(self._registry.close)
        return self._registry

    @property
    def context(self) -> ToolContext:
        if self._context is None:
            run = self._bridge.run  # type: ignore[attr-defined]
            self._context = run.context.observe_tools(
                self._bridge.services.permissions.context(mode=run.mode, run_id=run.execution_id)
            )
        return self._context

    async def execute(self, name: Any, params: Any = None) -> dict[str, Any]:
        if not isinstance(name, str):
            raise ValidationError(f"Tool.execute: tool name must be a string, got {_tname(name)}")
        result = await self.registry.execute(name, {} if params is None else params, self.context)
        # A result bigger than the run's whole memory cannot reach the script: refuse it before
        # its text form (to_dict) and the conversion are paid for.
        if larger_than(result.result, self._bridge.run.limits.memory_bytes):  # type: ignore[attr-defined]
            raise LimitExceeded("memory limit reached", "memory")
        return result.to_dict()

    def get(self, name: Any) -> dict[str, Any] | None:
        if not isinstance(name, str):
            raise ValidationError(f"Tool.get: tool name must be a string, got {_tname(name)}")
        if not self.registry.exists(name):
            return None
        info = self.registry.info(name)
        info["schema"] = info.pop("schema", None) or info.get("parameters")
        return info

    def list_tools(self, filters: Any = None) -> list[dict[str, Any]]:
        category, tag = _filters(filters, "Tool.list")
        return self.registry.list(category=category, tag=tag)

    def discover(self, filters: Any = None) -> list[dict[str, Any]]:
        category, tag = _filters(filters, "Tool.discover")
        return self.registry.list(category=category, tag=tag)

    def register(self, spec: Any) -> str:
        from llmspell.lua.convert import LuaFunctionRef
        from llmspell.tools.base import ToolResult
        from llmspell.tools.callable_tool import CallableTool

        if not isinstance(spec, dict):
            raise ValidationError(
                "Tool.register expects a table {name, description, parameters, handler}"
            )
        handler = spec.get("handler") or spec.get("execute") or spec.get("fn")
        if not isinstance(handler, LuaFunctionRef):
            raise ValidationError("Tool.register: 'handler' must be a function")
        name = spec.get("name")
        if not isinstance(name, str):
            raise ValidationError("Tool.register: 'name' must be a string")

        async def run_handler(params: dict[str, Any], ctx: Any) -> ToolResult:
            value = await handler(params)
            if isinstance(value, dict) and ("result" in value or "text" in value):
                return ToolResult(
                    result=value.get("result"),
                    text=value.get("text"),
                    success=value.get("success", True) is not False,
                    message=value.get("message"),
                )
            return ToolResult(result=value, text=value if isinstance(value, str) else None)

        tool = CallableTool(
            name,
            str(spec.get("description", "")),
            spec.get("parameters") or spec.get("schema"),
            run_handler,
            category=str(spec.get("category", "custom")),
            version=str(spec.get("version", "1.0.0")),
            security_level=spec.get("security_level", "safe"),
            tags=tuple(spec.get("tags") or ()),
        )
        self.registry.register(tool, source="lua", replace=bool(spec.get("replace", False)))
        return tool.name


def _filters(filters: Any, where: str) -> tuple[str | None, str | None]:
    if filters is None:
        return None, None
    if isinstance(filters, str):
        return filters, None
    if not isinstance(filters, dict):
        raise ValidationError(f"{where}: filters must be a table {{category=, tag=}}")
    return filters.get("category"), filters.get("tag")


def _tname(value: Any) -> str:
    return "nil" if value is None else type(value).__name__


def install(bridge: Bridge) -> None:
    tools = RunTools(bridge)
    bridge.run.tools = tools  # type: ignore[attr-defined]
    fns = {
        "execute": bridge.async_(tools.execute, "Tool.execute"),
        "get": bridge.sync(tools.get, "Tool.get"),
        "list": bridge.sync(tools.list_tools, "Tool.list"),
        "discover": bridge.sync(tools.discover, "Tool.discover"),
        "exists": bridge.sync(lambda name: tools.registry.exists(name), "Tool.exists"),
        "categories": bridge.sync(lambda: tools.registry.categories(), "Tool.categories"),
        "register": bridge.sync(tools.register, "Tool.register", functions=True),
    }
    bridge.define_global("Tool", fns, lua_file="tool.lua")
