"""``JSON``: parse and stringify, ``JSON.null`` and ``JSON.array``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ValidationError
from llmspell.lua.convert import JSON_NULL

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge


def _with_nulls(value: Any) -> Any:
    if value is None:
        return JSON_NULL
    if isinstance(value, dict):
        return {k: _with_nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_nulls(v) for v in value]
    return value


def parse(text: Any) -> Any:
    import json

    if not isinstance(text, str):
        raise ValidationError(f"JSON.parse: expected a string, got {type(text).__name__}")
    try:
        return _with_nulls(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"JSON.parse: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


MAX_INDENT = 16
"""Largest ``indent`` of ``JSON.stringify`` (larger ones are cut to it): the text is built by the
host, so a huge indent would make the host allocate without bound."""


def stringify(value: Any, options: Any = None) -> str:
    import json

    indent = None
    if isinstance(options, dict):
        if options.get("pretty"):
            indent = 2
        if isinstance(options.get("indent"), int):
            indent = max(0, min(int(options["indent"]), MAX_INDENT))
    try:
        return json.dumps(
            value,
            ensure_ascii=False,
            allow_nan=False,
            sort_keys=True,
            indent=indent,
            separators=None if indent else (",", ":"),
        )
    except ValueError as exc:
        raise ValidationError(f"JSON.stringify: {exc}") from None
    except TypeError as exc:
        raise ValidationError(f"JSON.stringify: {exc}") from None


def install(bridge: Bridge) -> None:
    json_parse = bridge.sync(parse, "JSON.parse")
    json_stringify = bridge.sync(stringify, "JSON.stringify")
    bridge.define_global(
        "JSON",
        {"parse": json_parse, "stringify": json_stringify},
        lua_file="json.lua",
    )
