"""environment-reader: read host environment variables that ``[security] env_allow`` names
(glob patterns such as ``"APP_*"``). Other variables are neither read nor listed."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import param_error

NAME = "environment-reader"


class EnvironmentReaderTool(Tool):
    """Allow-listed environment variables."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Read an allowed environment variable (get), check it (exists), or list the allowed "
        "variables that are set (list)."
    )
    category: ClassVar[str] = "system"
    security_level: ClassVar[SecurityLevel] = "restricted"
    tags: ClassVar[tuple[str, ...]] = ("environment", "system", "config")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": ["get", "exists", "list"], "default": "get"},
            "input": {"type": "string", "minLength": 1, "description": "Variable name"},
            "name": {"type": "string", "minLength": 1, "description": "Same as input"},
            "pattern": {"type": "string", "description": "Name glob for list"},
            "default": {"type": "string", "description": "Value of get when the variable is unset"},
        },
        "additionalProperties": False,
    }

    def __init__(self, *, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        environ = os.environ if self._environ is None else self._environ
        operation = params.get("operation", "get")
        if operation == "list":
            pattern = params.get("pattern", "*")
            names = [
                n
                for n in ctx.permissions.allowed_env_names(environ)
                if fnmatch.fnmatchcase(n, pattern)
            ]
            variables = {n: environ[n] for n in names}
            return ToolResult(
                result={"variables": variables, "count": len(variables)},
                text="\n".join(f"{n}={v}" for n, v in variables.items()),
                operation=operation,
            )
        name = params.get("input", params.get("name"))
        if not name:
            raise param_error(NAME, "input", f"is required for operation '{operation}'")
        ctx.check_env(name)
        value = environ.get(name)
        if operation == "exists":
            return ToolResult(
                result={"name": name, "exists": value is not None},
                text="true" if value is not None else "false",
                operation=operation,
            )
        if value is None:
            value = params.get("default")
        return ToolResult(
            result={"name": name, "value": value, "exists": name in environ},
            text=value or "",
            operation=operation,
        )
