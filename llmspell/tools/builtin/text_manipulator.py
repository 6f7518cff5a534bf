"""text-manipulator: string transformations (case, trimming, replacing, splitting, wrapping).

Positions count Unicode characters from 0, as in Python slices: ``substring`` with ``start=0,
end=5`` is the first five characters and negative values count from the end.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import Any, ClassVar

from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import check_size, missing, param_error, require, text_of

MAX_TEXT_CHARS = 1_000_000
"""Longest input and longest result, in characters."""

NAME = "text-manipulator"

OPERATIONS = (
    "uppercase",
    "lowercase",
    "reverse",
    "trim",
    "replace",
    "substring",
    "split",
    "join",
    "snake_case",
    "camel_case",
    "pascal_case",
    "kebab_case",
    "truncate",
    "word_wrap",
    "normalize_whitespace",
)

_WHITESPACE = re.compile(r"\s+")


def words(text: str) -> list[str]:
    """Split an identifier or phrase into words.

    A word ends at any character that is not a letter or digit, where a lower-case letter or digit
    meets an upper-case one (``userId``), and before the last capital of a run of capitals that
    starts a new word (``HTTPServer`` -> ``HTTP``, ``Server``).
    """
    out: list[str] = []
    current = ""
    for index, char in enumerate(text):
        if not char.isalnum():
            if current:
                out.append(current)
            current = ""
            continue
        if current:
            prev = current[-1]
            nxt = text[index + 1] if index + 1 < len(text) else ""
            starts_word = char.isupper() and (
                prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower())
            )
            if starts_word:
                out.append(current)
                current = ""
        current += char
    if current:
        out.append(current)
    return out


def _int_param(params: dict[str, Any], name: str, default: int | None, minimum: int) -> int:
    value = params.get(name, default)
    if value is None:
        raise missing(NAME, name, f" for operation '{params.get('operation')}'")
    if isinstance(value, bool) or not isinstance(value, int):
        raise param_error(NAME, name, "must be an integer")
    if value < minimum:
        raise param_error(NAME, name, f"must be at least {minimum}")
    return value


def _replace(text: str, params: dict[str, Any]) -> str:
    old = require(NAME, params, "from", "replace")
    new = params.get("to", "")
    if not isinstance(old, str) or not old:
        raise param_error(NAME, "from", "must be a non-empty string")
    if not isinstance(new, str):
        raise param_error(NAME, "to", "must be a string")
    growth = text.count(old) * (len(new) - len(old))
    if len(text) + growth > MAX_TEXT_CHARS:
        raise param_error(
            NAME, "to", f"the result would exceed the limit of {MAX_TEXT_CHARS} characters"
        )
    return text.replace(old, new)


def _substring(text: str, params: dict[str, Any]) -> str:
    start = params.get("start", 0)
    end = params.get("end")
    for key, value in (("start", start), ("end", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise param_error(NAME, key, "must be an integer")
    return text[start:end]


def _split(text: str, params: dict[str, Any]) -> list[str]:
    separator = params.get("separator")
    if separator == "":
        return list(text)
    return text.split(separator)


def _join(items: Any, params: dict[str, Any]) -> str:
    values = [] if items == {} else items
    if not isinstance(values, list):
        raise param_error(NAME, "input", "must be a list of strings for operation 'join'")
    separator = params.get("separator", "")
    if not isinstance(separator, str):
        raise param_error(NAME, "separator", "must be a string")
    parts: list[str] = []
    for index, item in enumerate(values, start=1):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise param_error(NAME, "input", f"item {index} must be a string or a number")
        parts.append(str(item))
    size = sum(len(p) for p in parts) + len(separator) * max(len(parts) - 1, 0)
    if size > MAX_TEXT_CHARS:
        raise param_error(NAME, "input", f"the result would exceed {MAX_TEXT_CHARS} characters")
    return separator.join(parts)


def _truncate(text: str, params: dict[str, Any]) -> str:
    length = _int_param(params, "length", None, 0)
    suffix = params.get("suffix", "...")
    if not isinstance(suffix, str):
        raise param_error(NAME, "suffix", "must be a string")
    if len(text) <= length:
        return text
    if len(suffix) > length:
        raise param_error(NAME, "length", f"must be at least the suffix length ({len(suffix)})")
    return text[: length - len(suffix)] + suffix


def _word_wrap(text: str, params: dict[str, Any]) -> str:
    width = _int_param(params, "width", 80, 1)
    lines = text.splitlines() or [""]
    return "\n".join(
        textwrap.fill(line, width=width, break_long_words=True) if line.strip() else ""
        for line in lines
    )


def _camel(text: str, *, upper_first: bool) -> str:
    parts = [w.lower() for w in words(text)]
    joined = "".join(w[:1].upper() + w[1:] for w in parts)
    if upper_first or not joined:
        return joined
    return parts[0] + joined[len(parts[0]) :]


SIMPLE: dict[str, Callable[[str], str]] = {
    "uppercase": str.upper,
    "lowercase": str.lower,
    "reverse": lambda s: s[::-1],
    "trim": str.strip,
    "normalize_whitespace": lambda s: _WHITESPACE.sub(" ", s).strip(),
    "snake_case": lambda s: "_".join(w.lower() for w in words(s)),
    "kebab_case": lambda s: "-".join(w.lower() for w in words(s)),
    "camel_case": lambda s: _camel(s, upper_first=False),
    "pascal_case": lambda s: _camel(s, upper_first=True),
}
"""Operations that need only the text."""

WITH_OPTIONS: dict[str, Callable[[str, dict[str, Any]], str | list[str]]] = {
    "replace": _replace,
    "substring": _substring,
    "split": _split,
    "truncate": _truncate,
    "word_wrap": _word_wrap,
}
"""Operations that read further parameters."""


def transform(operation: str, value: Any, params: dict[str, Any]) -> str | list[str]:
    """Apply one operation to ``value`` (a string, or a list for ``join``)."""
    if operation == "join":
        return _join(value, params)
    if not isinstance(value, str):
        raise param_error(NAME, "input", f"must be a string for operation '{operation}'")
    if operation in SIMPLE:
        return SIMPLE[operation](value)
    return WITH_OPTIONS[operation](value, params)


class TextManipulator(Tool):
    """Transforms text: case, trimming, replacing, splitting, joining, wrapping."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Transform text: uppercase, lowercase, reverse, trim, replace, substring, split, join, "
        "snake/camel/pascal/kebab case, truncate, word_wrap, normalize_whitespace."
    )
    category: ClassVar[str] = "text"
    tags: ClassVar[tuple[str, ...]] = ("text", "string", "transform")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(OPERATIONS)},
            "input": {
                "type": ["string", "array", "object"],
                "description": "the text; a list of strings for 'join'",
            },
            "from": {"type": "string", "description": "replace: the text to find"},
            "to": {"type": "string", "description": "replace: its replacement (default '')"},
            "start": {"type": "integer", "description": "substring: first index (default 0)"},
            "end": {"type": "integer", "description": "substring: index after the last one"},
            "separator": {
                "type": "string",
                "description": "split: separator (default: runs of whitespace); join: glue",
            },
            "length": {"type": "integer", "minimum": 0, "description": "truncate: max length"},
            "suffix": {"type": "string", "description": "truncate: marker (default '...')"},
            "width": {"type": "integer", "minimum": 1, "description": "word_wrap: line width"},
        },
        "required": ["operation", "input"],
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation")
        if operation not in OPERATIONS:
            raise param_error(NAME, "operation", f"must be one of: {', '.join(OPERATIONS)}")
        value = params.get("input")
        if value is None:
            raise missing(NAME, "input")
        if isinstance(value, str):
            check_size(NAME, "input", value, MAX_TEXT_CHARS)
        result = transform(operation, value, params)
        return ToolResult(result=result, text=text_of(result), operation=operation)
