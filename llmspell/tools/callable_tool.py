"""A tool built at run time from plain data and a handler (Lua tools, adapters, tests).

Static tools declare their metadata as class variables; a ``CallableTool`` carries it per
instance, so many different tools can share the class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from llmspell.core.errors import ValidationError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult

Handler = Callable[[dict[str, Any], ToolContext], Awaitable[Any]]
"""``async handler(params, ctx) -> value``; a ``ToolResult`` is passed through as it is."""

SECURITY_LEVELS: tuple[SecurityLevel, ...] = ("safe", "restricted", "privileged")


class CallableTool(Tool):
    """A tool whose metadata are given to the constructor and whose work is ``handler``."""

    def __init__(
        self,
        name: str,
        description: str,
        parameters: dict[str, Any] | None,
        handler: Handler,
        *,
        category: str = "custom",
        version: str = "1.0.0",
        security_level: SecurityLevel = "safe",
        side_effects: bool = False,
        tags: tuple[str, ...] = (),
    ) -> None:
        if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
            raise ValidationError(f"tool name must be a non-empty word, got {name!r}")
        if security_level not in SECURITY_LEVELS:
            raise ValidationError(
                f"tool '{name}': security_level must be one of {', '.join(SECURITY_LEVELS)}, "
                f"got {security_level!r}"
            )
        schema = parameters if parameters is not None else {"type": "object", "properties": {}}
        if not isinstance(schema, dict) or schema.get("type", "object") != "object":
            raise ValidationError(f"tool '{name}': parameters must be a JSON schema of type object")
        vars(self).update(
            name=name,
            description=description,
            category=category,
            version=version,
            security_level=security_level,
            side_effects=side_effects,
            tags=tuple(tags),
            parameters={"type": "object", **schema},
        )
        self._handler = handler

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return as_tool_result(await self._handler(params, ctx))


def as_tool_result(value: Any) -> ToolResult:
    """A handler's return value as a ``ToolResult`` (plain data; pydantic models, dataclasses,
    dates and paths become JSON-shaped values)."""
    if isinstance(value, ToolResult):
        return value
    if value is None or isinstance(value, (str, int, float, bool)):
        return ToolResult(result=value)
    from pydantic_core import to_jsonable_python

    return ToolResult(result=to_jsonable_python(value, fallback=str))
