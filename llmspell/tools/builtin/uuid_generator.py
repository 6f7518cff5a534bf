"""uuid-generator: UUID v1, v4 and v5 in four text formats, component ids, validation.

Version 1 UUIDs use a random node id (with the multicast bit set, as RFC 9562 allows) instead of
the machine's MAC address, so generated ids do not reveal the host.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any, ClassVar

from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import param_error, require

NAME = "uuid-generator"

FORMATS = ("hyphenated", "simple", "urn", "braced")
NAMESPACES = {
    "dns": uuid.NAMESPACE_DNS,
    "url": uuid.NAMESPACE_URL,
    "oid": uuid.NAMESPACE_OID,
    "x500": uuid.NAMESPACE_X500,
}
VERSIONS: dict[Any, int] = {1: 1, 4: 4, 5: 5, "1": 1, "4": 4, "5": 5, "v1": 1, "v4": 4, "v5": 5}

_HEX = "[0-9a-fA-F]"
_HYPHENATED = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_PATTERNS = {
    "hyphenated": re.compile(f"^{_HYPHENATED}$"),
    "simple": re.compile(f"^{_HEX}{{32}}$"),
    "urn": re.compile(f"^urn:uuid:{_HYPHENATED}$", re.IGNORECASE),
    "braced": re.compile(f"^\\{{{_HYPHENATED}\\}}$"),
}
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def render(value: uuid.UUID, fmt: str) -> str:
    """``value`` written in one of ``FORMATS``."""
    if fmt == "simple":
        return value.hex
    if fmt == "urn":
        return value.urn
    if fmt == "braced":
        return "{" + str(value) + "}"
    return str(value)


def detect_format(text: str) -> str | None:
    """The format ``text`` is written in, or ``None`` when it is not a UUID."""
    for fmt, pattern in _PATTERNS.items():
        if pattern.match(text):
            return fmt
    return None


def _namespace(params: dict[str, Any]) -> uuid.UUID:
    raw = require(NAME, params, "namespace", "generate (version 5)")
    if not isinstance(raw, str):
        raise param_error(NAME, "namespace", "must be a string")
    if raw.lower() in NAMESPACES:
        return NAMESPACES[raw.lower()]
    if detect_format(raw.strip()) is None:
        raise param_error(NAME, "namespace", "must be dns, url, oid, x500 or a UUID")
    return uuid.UUID(raw.strip())


def _generate(params: dict[str, Any]) -> tuple[uuid.UUID, int]:
    raw_version = params.get("version", 4)
    hashable = isinstance(raw_version, int | str) and not isinstance(raw_version, bool)
    version = VERSIONS.get(raw_version) if hashable else None
    if version is None:
        raise param_error(NAME, "version", "must be 1, 4 or 5")
    if version == 1:
        return uuid.uuid1(node=secrets.randbits(48) | (1 << 40)), 1
    if version == 5:
        name = require(NAME, params, "name", "generate (version 5)")
        if not isinstance(name, str):
            raise param_error(NAME, "name", "must be a string")
        return uuid.uuid5(_namespace(params), name), 5
    return uuid.uuid4(), 4


def _validate(params: dict[str, Any]) -> ToolResult:
    text = require(NAME, params, "input", "validate")
    if not isinstance(text, str):
        raise param_error(NAME, "input", "must be a string")
    fmt = detect_format(text.strip())
    if fmt is None:
        result: dict[str, Any] = {"valid": False, "input": text, "error": "not a UUID"}
        return ToolResult(result=result, text="invalid", operation="validate")
    value = uuid.UUID(text.strip())
    result = {
        "valid": True,
        "input": text,
        "format": fmt,
        "version": value.version,
        "variant": value.variant,
        "uuid": str(value),
    }
    return ToolResult(result=result, text="valid", operation="validate")


class UuidGenerator(Tool):
    """Generates and validates UUIDs."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Generate UUIDs (v1, v4, v5 from a namespace and name) in hyphenated, simple, urn or "
        "braced format, make prefixed component ids, or validate a UUID."
    )
    category: ClassVar[str] = "utility"
    tags: ClassVar[tuple[str, ...]] = ("uuid", "id", "identifier")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {
                "type": "string",
                "enum": ["generate", "component_id", "validate"],
                "default": "generate",
            },
            "version": {
                "enum": [1, 4, 5, "1", "4", "5", "v1", "v4", "v5"],
                "description": "UUID version (default 4)",
            },
            "namespace": {
                "type": "string",
                "description": "version 5: dns, url, oid, x500 or a UUID",
            },
            "name": {"type": "string", "description": "version 5: the name to hash"},
            "format": {"type": "string", "enum": list(FORMATS), "default": "hyphenated"},
            "prefix": {
                "type": "string",
                "pattern": _PREFIX.pattern,
                "description": "component_id: prefix (default 'component')",
            },
            "input": {"type": "string", "description": "validate: the text to check"},
        },
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "generate"
        if operation == "validate":
            return _validate(params)
        if operation == "component_id":
            prefix = params.get("prefix") or "component"
            if not isinstance(prefix, str) or not _PREFIX.match(prefix):
                raise param_error(NAME, "prefix", "must be 1-64 letters, digits, '_' or '-'")
            component = f"{prefix}_{uuid.uuid4().hex}"
            made = {"id": component, "prefix": prefix}
            return ToolResult(result=made, text=component, operation=operation)
        if operation != "generate":
            raise param_error(NAME, "operation", "must be generate, component_id or validate")
        fmt = params.get("format") or "hyphenated"
        if fmt not in FORMATS:
            raise param_error(NAME, "format", f"must be one of: {', '.join(FORMATS)}")
        value, version = _generate(params)
        text = render(value, fmt)
        result = {"uuid": text, "version": version, "format": fmt}
        return ToolResult(result=result, text=text, operation=operation)
