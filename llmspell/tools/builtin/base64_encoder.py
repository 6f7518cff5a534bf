"""base64-encoder: encode text to base64 and decode it back, standard or URL-safe alphabet.

Decoding ignores whitespace (wrapped base64), accepts missing ``=`` padding and rejects any
character outside the chosen alphabet. The decoded bytes must be UTF-8 text.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, ClassVar

from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import check_size, param_error

NAME = "base64-encoder"

MAX_INPUT_CHARS = 10_000_000
VARIANTS = ("standard", "url_safe", "url-safe", "urlsafe")

_WHITESPACE = re.compile(r"\s+")


def encode(text: str, *, url_safe: bool) -> str:
    data = text.encode("utf-8")
    encoded = base64.urlsafe_b64encode(data) if url_safe else base64.b64encode(data)
    return encoded.decode("ascii")


def decode(text: str, *, url_safe: bool) -> str:
    """The UTF-8 text encoded in ``text``; ``ValueError`` says what is wrong with it."""
    compact = _WHITESPACE.sub("", text)
    alphabet = "URL-safe" if url_safe else "standard"
    if url_safe and ("+" in compact or "/" in compact):
        raise ValueError(f"not valid {alphabet} base64 ('+' and '/' belong to the standard one)")
    padded = compact + "=" * (-len(compact) % 4)
    try:
        data = base64.b64decode(padded, altchars=b"-_" if url_safe else None, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not valid {alphabet} base64 ({exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the decoded bytes are not UTF-8 text") from None


class Base64Encoder(Tool):
    """Encodes and decodes base64."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Encode text to base64 or decode base64 to text, with the standard or URL-safe alphabet."
    )
    category: ClassVar[str] = "utility"
    tags: ClassVar[tuple[str, ...]] = ("base64", "encoding")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": ["encode", "decode"], "default": "encode"},
            "input": {"type": "string", "description": "the text to encode or decode"},
            "variant": {"type": "string", "enum": list(VARIANTS), "default": "standard"},
        },
        "required": ["input"],
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "encode"
        if operation not in ("encode", "decode"):
            raise param_error(NAME, "operation", "must be encode or decode")
        variant = params.get("variant") or "standard"
        if variant not in VARIANTS:
            raise param_error(NAME, "variant", "must be standard or url_safe")
        text = params.get("input")
        if not isinstance(text, str):
            raise param_error(NAME, "input", "a string is required")
        check_size(NAME, "input", text, MAX_INPUT_CHARS)
        url_safe = variant != "standard"
        if operation == "encode":
            output = encode(text, url_safe=url_safe)
        else:
            try:
                output = decode(text, url_safe=url_safe)
            except ValueError as exc:
                raise param_error(NAME, "input", str(exc)) from None
        return ToolResult(result=output, text=output, operation=operation)
