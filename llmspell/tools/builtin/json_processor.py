"""json-processor: query JSON with JMESPath, check, parse, pretty-print and minify it.

``input`` is JSON text, or already structured data (a Lua table) for ``query``, ``format`` and
``minify``. Queries use JMESPath (https://jmespath.org), e.g. ``people[?age > `30`].name``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import check_size, loads, param_error, require, text_of

NAME = "json-processor"

OPERATIONS = ("query", "validate", "parse", "format", "minify")
MAX_INPUT_CHARS = 10_000_000
MAX_QUERY_CHARS = 10_000


def _data(params: dict[str, Any]) -> Any:
    """The data to work on: ``input`` parsed when it is text, as given otherwise."""
    value = require(NAME, params, "input", str(params.get("operation") or "query"))
    if not isinstance(value, str):
        return value
    check_size(NAME, "input", value, MAX_INPUT_CHARS)
    try:
        return loads(value)
    except ValueError as exc:
        raise param_error(NAME, "input", str(exc)) from None


def query(data: Any, expression: str) -> Any:
    """The result of the JMESPath ``expression`` on ``data``."""
    import jmespath
    from jmespath.exceptions import JMESPathError, ParseError

    check_size(NAME, "query", expression, MAX_QUERY_CHARS)
    try:
        compiled = jmespath.compile(expression)
    except ParseError as exc:
        raise param_error(NAME, "query", f"invalid JMESPath expression: {exc}") from None
    try:
        return compiled.search(data)
    except JMESPathError as exc:
        raise ToolError(f"{NAME}: query '{expression}' failed: {exc}") from None


def _validate(params: dict[str, Any]) -> ToolResult:
    text = require(NAME, params, "input", "validate")
    if not isinstance(text, str):
        raise param_error(NAME, "input", "must be JSON text for operation 'validate'")
    check_size(NAME, "input", text, MAX_INPUT_CHARS)
    try:
        value = loads(text)
    except ValueError as exc:
        result = {"valid": False, "error": str(exc)}
        return ToolResult(result=result, text=str(exc), operation="validate")
    result = {"valid": True, "error": None, "type": _json_type(value)}
    return ToolResult(result=result, text="valid", operation="validate")


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _dump(data: Any, params: dict[str, Any], *, pretty: bool) -> str:
    indent = params.get("indent", 2)
    if isinstance(indent, bool) or not isinstance(indent, int) or not 0 <= indent <= 8:
        raise param_error(NAME, "indent", "must be an integer from 0 to 8")
    try:
        return json.dumps(
            data,
            ensure_ascii=False,
            sort_keys=bool(params.get("sort_keys", False)),
            indent=indent if pretty else None,
            separators=None if pretty else (",", ":"),
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise param_error(NAME, "input", f"cannot be written as JSON: {exc}") from None


class JsonProcessor(Tool):
    """Queries, validates and reformats JSON."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Work with JSON: query it with a JMESPath expression, validate or parse JSON text, "
        "pretty-print (format) or minify it."
    )
    category: ClassVar[str] = "data"
    tags: ClassVar[tuple[str, ...]] = ("json", "jmespath", "query", "data")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(OPERATIONS), "default": "query"},
            "input": {"description": "JSON text, or structured data for query/format/minify"},
            "query": {"type": "string", "description": "query: a JMESPath expression"},
            "indent": {"type": "integer", "minimum": 0, "maximum": 8, "default": 2},
            "sort_keys": {"type": "boolean", "default": False},
        },
        "required": ["input"],
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "query"
        if operation not in OPERATIONS:
            raise param_error(NAME, "operation", f"must be one of: {', '.join(OPERATIONS)}")
        if operation == "validate":
            return _validate(params)
        data = _data(params)
        if operation == "query":
            expression = require(NAME, params, "query", operation)
            if not isinstance(expression, str):
                raise param_error(NAME, "query", "must be a string")
            found = query(data, expression)
            return ToolResult(result=found, text=text_of(found), operation=operation)
        if operation == "parse":
            return ToolResult(result=data, text=text_of(data), operation=operation)
        output = _dump(data, params, pretty=operation == "format")
        return ToolResult(result=output, text=output, operation=operation)
