"""diff-calculator: unified diffs of text and structural differences of JSON values.

Each side is given inline (``old``, ``new``) or as a file (``source_path``, ``target_path``, read
through the permission policy). For the ``json`` operation a string side is JSON text and is
parsed; tables are compared as they are. JSON differences are listed with ``$.a.b[0]`` paths.
"""

from __future__ import annotations

import asyncio
import difflib
from typing import Any, ClassVar

from llmspell.core.errors import ToolError
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import (
    check_size,
    json_path,
    loads,
    param_error,
    read_text_file,
    text_of,
)

NAME = "diff-calculator"

MAX_SIDE_CHARS = 1_000_000
DEFAULT_MAX_DIFFERENCES = 1000
SIDES = (("old", "source_path"), ("new", "target_path"))


async def _side(params: dict[str, Any], ctx: ToolContext, inline: str, path_key: str) -> Any:
    """One side of the comparison: inline value or file content (text)."""
    has_inline = params.get(inline) is not None
    has_path = params.get(path_key) is not None
    if has_inline == has_path:
        raise param_error(NAME, inline, f"give exactly one of '{inline}' and '{path_key}'")
    if has_path:
        return await read_text_file(NAME, path_key, str(params[path_key]), ctx, MAX_SIDE_CHARS)
    value = params[inline]
    if isinstance(value, str):
        check_size(NAME, inline, value, MAX_SIDE_CHARS)
    return value


def text_diff(old: str, new: str, *, context: int, labels: tuple[str, str]) -> dict[str, Any]:
    """``{diff, added, removed, changed}`` for two texts, compared line by line."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    lines = list(
        difflib.unified_diff(
            old_lines, new_lines, fromfile=labels[0], tofile=labels[1], n=context, lineterm=""
        )
    )
    body = [line for line in lines[2:] if not line.startswith("@@")]
    return {
        "diff": "\n".join(lines) + ("\n" if lines else ""),
        "added": sum(1 for line in body if line.startswith("+")),
        "removed": sum(1 for line in body if line.startswith("-")),
        "changed": bool(lines),
    }


def json_differences(old: Any, new: Any, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The differences from ``old`` to ``new`` (at most ``limit``) and whether more exist."""
    found: list[dict[str, Any]] = []

    def add(entry: dict[str, Any]) -> bool:
        if len(found) >= limit:
            return False
        found.append(entry)
        return True

    def removed(path: list[Any], value: Any) -> bool:
        return add({"op": "removed", "path": json_path(path), "old": value})

    def added(path: list[Any], value: Any) -> bool:
        return add({"op": "added", "path": json_path(path), "new": value})

    def walk(a: Any, b: Any, path: list[Any]) -> bool:
        """Record the differences below ``path``; false once the limit is reached."""
        if isinstance(a, dict) and isinstance(b, dict):
            gone = all(removed([*path, k], a[k]) for k in a if k not in b)
            new = gone and all(added([*path, k], b[k]) for k in b if k not in a)
            return new and all(walk(a[k], b[k], [*path, k]) for k in a if k in b)
        if isinstance(a, list) and isinstance(b, list):
            common = min(len(a), len(b))
            return (
                all(walk(a[i], b[i], [*path, i]) for i in range(common))
                and all(removed([*path, i], a[i]) for i in range(common, len(a)))
                and all(added([*path, i], b[i]) for i in range(common, len(b)))
            )
        if _same(a, b):
            return True
        return add({"op": "changed", "path": json_path(path), "old": a, "new": b})

    try:
        complete = walk(old, new, [])
    except RecursionError:
        raise ToolError(f"{NAME}: the values are nested too deeply to compare") from None
    return found, not complete


def _same(a: Any, b: Any) -> bool:
    """JSON equality: numbers compare by value, but booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _describe(entry: dict[str, Any]) -> str:
    if entry["op"] == "added":
        return f"+ {entry['path']}: {text_of(entry['new'])}"
    if entry["op"] == "removed":
        return f"- {entry['path']}: {text_of(entry['old'])}"
    return f"~ {entry['path']}: {text_of(entry['old'])} -> {text_of(entry['new'])}"


class DiffCalculator(Tool):
    """Computes text and JSON differences."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Compare two texts (unified diff) or two JSON values (list of added, removed and "
        "changed paths)."
    )
    category: ClassVar[str] = "data"
    tags: ClassVar[tuple[str, ...]] = ("diff", "compare", "text", "json")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": ["text", "json"], "default": "text"},
            "old": {"description": "the original text (or JSON value / JSON text)"},
            "new": {"description": "the changed text (or JSON value / JSON text)"},
            "source_path": {"type": "string", "description": "a file to use as 'old'"},
            "target_path": {"type": "string", "description": "a file to use as 'new'"},
            "context_lines": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 3},
            "old_label": {"type": "string", "default": "old"},
            "new_label": {"type": "string", "default": "new"},
            "max_differences": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100_000,
                "default": DEFAULT_MAX_DIFFERENCES,
            },
        },
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "text"
        if operation not in ("text", "json"):
            raise param_error(NAME, "operation", "must be text or json")
        old, new = [await _side(params, ctx, inline, path) for inline, path in SIDES]
        if operation == "json":
            return self._json(params, old, new)
        for key, value in (("old", old), ("new", new)):
            if not isinstance(value, str):
                raise param_error(NAME, key, "must be a string for operation 'text'")
        context = params.get("context_lines", 3)
        if isinstance(context, bool) or not isinstance(context, int) or context < 0:
            raise param_error(NAME, "context_lines", "must be a whole number >= 0")
        labels = (
            str(params.get("old_label") or params.get("source_path") or "old"),
            str(params.get("new_label") or params.get("target_path") or "new"),
        )
        result = await asyncio.to_thread(text_diff, old, new, context=context, labels=labels)
        return ToolResult(result=result, text=result["diff"], operation=operation)

    def _json(self, params: dict[str, Any], old: Any, new: Any) -> ToolResult:
        values = []
        for key, value in (("old", old), ("new", new)):
            if isinstance(value, str):
                try:
                    value = loads(value)
                except ValueError as exc:
                    raise param_error(NAME, key, str(exc)) from None
            values.append(value)
        limit = params.get("max_differences", DEFAULT_MAX_DIFFERENCES)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise param_error(NAME, "max_differences", "must be a whole number >= 1")
        found, truncated = json_differences(values[0], values[1], limit)
        result = {
            "equal": not found,
            "differences": found,
            "count": len(found),
            "truncated": truncated,
        }
        text = "\n".join(_describe(entry) for entry in found) if found else "equal"
        return ToolResult(result=result, text=text, operation="json")
