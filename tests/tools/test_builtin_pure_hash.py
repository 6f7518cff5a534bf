"""hash-calculator: algorithms, encodings, files under the read policy, verify, limits."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from llmspell.core.errors import PermissionDenied, ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin import hash_calculator
from llmspell.tools.builtin.hash_calculator import HashCalculator
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return PermissionPolicy(file_read_roots=[str(tmp_path / "allowed")]).context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(HashCalculator())
    return registry


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha512"])
async def test_algorithms(registry: ToolRegistry, ctx: ToolContext, algorithm: str) -> None:
    result = await registry.execute(
        "hash-calculator", {"input": "hello", "algorithm": algorithm}, ctx
    )
    expected = hashlib.new(algorithm, b"hello").hexdigest()
    assert result.text == expected
    assert result.result == {"hash": expected, "algorithm": algorithm, "format": "hex"}


async def test_default_is_sha256_hex_and_base64(registry: ToolRegistry, ctx: ToolContext) -> None:
    plain = await registry.execute("hash-calculator", {"input": "héllo"}, ctx)
    assert plain.text == hashlib.sha256("héllo".encode()).hexdigest()
    b64 = await registry.execute("hash-calculator", {"input": "héllo", "format": "base64"}, ctx)
    assert b64.text == base64.b64encode(hashlib.sha256("héllo".encode()).digest()).decode()


async def test_file_within_read_roots(
    registry: ToolRegistry, ctx: ToolContext, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    data = b"x" * 3_000_000
    (allowed / "data.bin").write_bytes(data)
    result = await registry.execute(
        "hash-calculator", {"path": str(allowed / "data.bin"), "algorithm": "md5"}, ctx
    )
    assert result.text == hashlib.md5(data).hexdigest()
    assert result.result["path"] == str(allowed / "data.bin")


async def test_file_outside_read_roots_is_denied(
    registry: ToolRegistry, ctx: ToolContext, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    with pytest.raises(PermissionDenied, match="file_read_roots"):
        await registry.execute("hash-calculator", {"path": str(secret)}, ctx)
    with pytest.raises(PermissionDenied):
        await registry.execute(
            "hash-calculator", {"path": str(tmp_path / "allowed" / ".." / "secret.txt")}, ctx
        )


async def test_missing_file_is_a_tool_error(
    registry: ToolRegistry, ctx: ToolContext, tmp_path: Path
) -> None:
    (tmp_path / "allowed").mkdir()
    with pytest.raises(ToolError, match="cannot read"):
        await registry.execute("hash-calculator", {"path": str(tmp_path / "allowed" / "no")}, ctx)


async def test_verify(registry: ToolRegistry, ctx: ToolContext) -> None:
    digest = hashlib.sha256(b"abc").digest()
    for expected in (digest.hex().upper(), base64.b64encode(digest).decode()):
        ok = await registry.execute(
            "hash-calculator", {"operation": "verify", "input": "abc", "expected": expected}, ctx
        )
        assert ok.result["valid"] is True
        assert ok.text == "match"
    bad = await registry.execute(
        "hash-calculator", {"operation": "verify", "input": "abd", "expected": digest.hex()}, ctx
    )
    assert bad.result["valid"] is False
    assert bad.text == "mismatch"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "input"),
        ({"input": "a", "path": "b"}, "path"),
        ({"operation": "verify", "input": "a"}, "expected"),
        ({"input": "a", "algorithm": "crc32"}, "algorithm"),
        ({"input": "a", "format": "base32"}, "format"),
        ({"input": 5}, "input"),
    ],
)
async def test_parameter_errors(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, object], parameter: str
) -> None:
    with pytest.raises(ValidationError, match=rf"hash-calculator: parameter '{parameter}'"):
        await registry.execute("hash-calculator", params, ctx)


async def test_input_limit(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hash_calculator, "MAX_INPUT_CHARS", 10)
    with pytest.raises(ValidationError, match=r"parameter 'input': 11 characters exceeds"):
        await HashCalculator().execute({"input": "x" * 11}, ctx)
