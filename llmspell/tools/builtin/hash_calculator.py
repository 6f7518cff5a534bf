"""hash-calculator: MD5, SHA-1, SHA-256 and SHA-512 digests of a string or a file, and checks.

A file named by ``path`` is read through the run's permission policy (``ctx.check_read``) in
chunks, so its size does not matter. ``verify`` compares in constant time and accepts the expected
digest in hex (any case) or base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, ClassVar

from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import (
    check_size,
    digest_file,
    param_error,
    require,
    source_param,
)

NAME = "hash-calculator"

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
ENCODINGS = ("hex", "base64")
MAX_INPUT_CHARS = 10_000_000
"""Longest string ``input``; files have no limit since they are hashed in chunks."""


class HashCalculator(Tool):
    """Computes and verifies hashes of strings and files."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Compute an md5, sha1, sha256 or sha512 hash of a string or a file, in hex or base64, "
        "or verify one against an expected hash."
    )
    category: ClassVar[str] = "utility"
    tags: ClassVar[tuple[str, ...]] = ("hash", "checksum", "crypto")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": ["hash", "verify"], "default": "hash"},
            "algorithm": {"type": "string", "enum": list(ALGORITHMS), "default": "sha256"},
            "format": {"type": "string", "enum": list(ENCODINGS), "default": "hex"},
            "input": {"type": "string", "description": "the text to hash (UTF-8)"},
            "path": {"type": "string", "description": "a file to hash instead of 'input'"},
            "expected": {"type": "string", "description": "verify: the expected hash"},
        },
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "hash"
        if operation not in ("hash", "verify"):
            raise param_error(NAME, "operation", "must be hash or verify")
        algorithm = params.get("algorithm") or "sha256"
        if algorithm not in ALGORITHMS:
            raise param_error(NAME, "algorithm", f"must be one of: {', '.join(ALGORITHMS)}")
        encoding = params.get("format") or "hex"
        if encoding not in ENCODINGS:
            raise param_error(NAME, "format", "must be hex or base64")
        expected = require(NAME, params, "expected", "verify") if operation == "verify" else None
        hasher = hashlib.new(algorithm, usedforsecurity=False)
        source = source_param(NAME, params)
        if source == "input":
            text = params["input"]
            if not isinstance(text, str):
                raise param_error(NAME, "input", "must be a string")
            hasher.update(check_size(NAME, "input", text, MAX_INPUT_CHARS).encode("utf-8"))
        else:
            await digest_file(NAME, str(params["path"]), ctx, hasher)
        digest = hasher.digest()
        value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")
        result: dict[str, Any] = {"hash": value, "algorithm": algorithm, "format": encoding}
        if source == "path":
            result["path"] = params["path"]
        if expected is None:
            return ToolResult(result=result, text=value, operation=operation)
        if not isinstance(expected, str):
            raise param_error(NAME, "expected", "must be a string")
        result["expected"] = expected
        result["valid"] = _matches(digest, expected.strip())
        return ToolResult(
            result=result, text="match" if result["valid"] else "mismatch", operation=operation
        )


def _matches(digest: bytes, expected: str) -> bool:
    """Whether ``expected`` (hex in any case, or base64) names ``digest``."""
    hex_match = hmac.compare_digest(expected.lower().encode(), digest.hex().encode())
    b64_match = hmac.compare_digest(expected.encode(), base64.b64encode(digest))
    return hex_match or b64_match
