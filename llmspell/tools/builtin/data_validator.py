"""data-validator: check data against a JSON Schema, listing every error with its path.

The schema's ``$schema`` picks the draft (2020-12 when absent); ``format`` keywords are checked.
References resolve only inside the schema itself: nothing is fetched from the network.
Invalid data is a successful call whose result says ``valid = false``; an invalid schema is a
``ValidationError`` naming the ``schema`` parameter.
"""

from __future__ import annotations

from typing import Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import (
    check_size,
    json_path,
    loads,
    missing,
    param_error,
    require,
)

NAME = "data-validator"

MAX_INPUT_CHARS = 10_000_000
DEFAULT_MAX_ERRORS = 50
MAX_ERRORS = 1000


def _json_param(params: dict[str, Any], key: str) -> Any:
    value = params[key]
    if not isinstance(value, str):
        return value
    check_size(NAME, key, value, MAX_INPUT_CHARS)
    try:
        return loads(value)
    except ValueError as exc:
        raise param_error(NAME, key, str(exc)) from None


def validate(data: Any, schema: Any, max_errors: int) -> dict[str, Any]:
    """``{valid, errors=[{path, message, keyword, schema_path}], error_count, truncated}``."""
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for
    from referencing.exceptions import Unresolvable

    if not isinstance(schema, dict | bool):
        raise param_error(NAME, "schema", "must be a JSON Schema object")
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = json_path(exc.path)
        raise param_error(NAME, "schema", f"invalid schema at {where}: {exc.message}") from None
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors: list[dict[str, Any]] = []
    truncated = False
    try:
        for error in validator.iter_errors(data):
            if len(errors) == max_errors:
                truncated = True
                break
            errors.append(
                {
                    "path": json_path(error.absolute_path),
                    "message": error.message,
                    "keyword": error.validator,
                    "schema_path": "/".join(str(p) for p in error.absolute_schema_path),
                }
            )
    except Unresolvable as exc:
        raise param_error(NAME, "schema", f"unresolvable reference: {exc}") from None
    except RecursionError:
        raise ToolError(f"{NAME}: the schema or data is nested too deeply") from None
    errors.sort(key=lambda e: (e["path"], e["schema_path"]))
    return {
        "valid": not errors,
        "errors": errors,
        "error_count": len(errors),
        "truncated": truncated,
    }


class DataValidator(Tool):
    """Validates data against a JSON Schema."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Validate data against a JSON Schema; lists each error with the path of the offending "
        "value (e.g. $.items[0].price)."
    )
    category: ClassVar[str] = "data"
    tags: ClassVar[tuple[str, ...]] = ("validation", "json-schema", "data")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": ["validate"], "default": "validate"},
            "input": {"description": "the data to check (JSON text when parse_json is true)"},
            "schema": {
                "type": ["object", "boolean", "string"],
                "description": "the JSON Schema (a table, or JSON text)",
            },
            "parse_json": {
                "type": "boolean",
                "default": False,
                "description": "read a string 'input' as JSON text instead of a string value",
            },
            "max_errors": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ERRORS,
                "default": DEFAULT_MAX_ERRORS,
            },
        },
        "required": ["input", "schema"],
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "validate"
        if operation != "validate":
            raise param_error(NAME, "operation", "must be validate")
        require(NAME, params, "schema", operation)
        if "input" not in params:
            raise missing(NAME, "input")
        schema = _json_param(params, "schema")
        data = _json_param(params, "input") if params.get("parse_json") else params["input"]
        max_errors = params.get("max_errors", DEFAULT_MAX_ERRORS)
        if isinstance(max_errors, bool) or not isinstance(max_errors, int):
            raise param_error(NAME, "max_errors", "must be an integer")
        if not 1 <= max_errors <= MAX_ERRORS:
            raise param_error(NAME, "max_errors", f"must be from 1 to {MAX_ERRORS}")
        report = validate(data, schema, max_errors)
        text = (
            "valid"
            if report["valid"]
            else "\n".join(f"{e['path']}: {e['message']}" for e in report["errors"])
        )
        return ToolResult(result=report, text=text, operation=operation)
