"""Helpers shared by the pure built-in tools: parameter errors, limits and input sources.

The registry validates parameters against each tool's JSON schema; the checks here cover what a
schema cannot say on its own (a parameter required by one operation, "``input`` or ``path``",
sizes measured after decoding) and word their errors the same way: ``<tool>: parameter
'<name>': <what was expected>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmspell.core.errors import ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell_utils import jsonutil

_CHUNK_BYTES = 1024 * 1024


def param_error(tool: str, param: str, message: str) -> ValidationError:
    """A ``ValidationError`` naming the tool and the parameter, like the registry's own."""
    return ValidationError(f"{tool}: parameter '{param}': {message}")


def missing(tool: str, param: str, detail: str = "") -> ValidationError:
    """``<tool>: parameter '<name>' is required<detail>``, the registry's wording."""
    return ValidationError(f"{tool}: parameter '{param}' is required{detail}")


def require(tool: str, params: dict[str, Any], name: str, operation: str) -> Any:
    """The value of a parameter the chosen operation needs; an error naming it when absent."""
    value = params.get(name)
    if value is None:
        raise missing(tool, name, f" for operation '{operation}'")
    return value


def check_size(tool: str, param: str, value: str, limit: int) -> str:
    """``value`` when it has at most ``limit`` characters; an error naming ``param`` otherwise."""
    if len(value) > limit:
        raise param_error(tool, param, f"{len(value)} characters exceeds the limit of {limit}")
    return value


def loads(text: str) -> Any:
    """Strict JSON parsing (no NaN/Infinity); ``ValueError`` says where it failed."""
    try:
        return jsonutil.loads(text)
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None


def json_path(parts: Iterable[Any]) -> str:
    """``$.items[0].name`` for ``["items", 0, "name"]``; odd keys are quoted: ``$["a b"]``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{jsonutil.dumps(str(part))}]"
    return out


def text_of(value: Any) -> str:
    """The string form of a structured result: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return jsonutil.dumps(value)


def source_param(tool: str, params: dict[str, Any]) -> str:
    """Which of ``input`` and ``path`` was given; exactly one must be."""
    has_input = params.get("input") is not None
    has_path = params.get("path") is not None
    if has_input and has_path:
        raise param_error(tool, "path", "give either 'input' or 'path', not both")
    if not (has_input or has_path):
        raise missing(tool, "input", " (or give a file 'path')")
    return "input" if has_input else "path"


async def read_text_file(tool: str, param: str, path: str, ctx: ToolContext, limit: int) -> str:
    """The UTF-8 content of the file named by parameter ``param``, which the policy must allow
    reading and which may have at most ``limit`` bytes."""
    resolved = ctx.check_read(path)
    return await asyncio.to_thread(_read_text, tool, param, path, resolved, limit)


def _read_text(tool: str, param: str, shown: str, resolved: Path, limit: int) -> str:
    try:
        size = resolved.stat().st_size
        if size > limit:
            raise param_error(tool, param, f"'{shown}' has {size} bytes; the limit is {limit}")
        data = resolved.read_bytes()
    except OSError as exc:
        raise ToolError(f"{tool}: cannot read '{shown}': {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ToolError(f"{tool}: '{shown}' is not UTF-8 text") from None


async def digest_file(tool: str, path: str, ctx: ToolContext, hasher: Any) -> None:
    """Feed a file the policy allows reading into ``hasher`` (a hashlib object), in chunks."""
    resolved = ctx.check_read(path)
    await asyncio.to_thread(_digest, tool, path, resolved, hasher)


def _digest(tool: str, shown: str, resolved: Path, hasher: Any) -> None:
    try:
        with resolved.open("rb") as fh:
            while chunk := fh.read(_CHUNK_BYTES):
                hasher.update(chunk)
    except OSError as exc:
        raise ToolError(f"{tool}: cannot read '{shown}': {exc.strerror or exc}") from None
