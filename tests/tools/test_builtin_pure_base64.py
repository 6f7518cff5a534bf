"""base64-encoder: standard and URL-safe round trips, strict decoding, limits."""

from __future__ import annotations

import pytest

from llmspell.core.errors import ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin import base64_encoder
from llmspell.tools.builtin.base64_encoder import Base64Encoder
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx() -> ToolContext:
    return PermissionPolicy().context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(Base64Encoder())
    return registry


async def call(registry: ToolRegistry, ctx: ToolContext, **params: object) -> str:
    result = await registry.execute("base64-encoder", params, ctx)
    assert result.result == result.text
    return str(result.text)


async def test_standard_round_trip(registry: ToolRegistry, ctx: ToolContext) -> None:
    assert await call(registry, ctx, input="hello world") == "aGVsbG8gd29ybGQ="
    assert await call(registry, ctx, operation="decode", input="aGVsbG8gd29ybGQ=") == "hello world"


async def test_url_safe_alphabet(registry: ToolRegistry, ctx: ToolContext) -> None:
    text = "ÿþ?>"
    standard = await call(registry, ctx, input=text)
    url_safe = await call(registry, ctx, input=text, variant="url_safe")
    assert "/" in standard or "+" in standard
    assert "/" not in url_safe and "+" not in url_safe
    decoded = await call(registry, ctx, operation="decode", input=url_safe, variant="url-safe")
    assert decoded == text


async def test_decode_tolerates_missing_padding_and_line_breaks(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    assert await call(registry, ctx, operation="decode", input="aGVsbG8\ngd29ybGQ") == "hello world"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"operation": "decode", "input": "a*b="}, "not valid standard base64"),
        ({"operation": "decode", "input": "-_8=", "variant": "standard"}, "not valid standard"),
        ({"operation": "decode", "input": "+/8=", "variant": "url_safe"}, "not valid URL-safe"),
        ({"operation": "decode", "input": "//79"}, "not UTF-8 text"),
    ],
)
async def test_bad_input_names_the_parameter(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=r"base64-encoder: parameter 'input'") as info:
        await registry.execute("base64-encoder", params, ctx)
    assert message in str(info.value)


async def test_schema_errors(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"parameter 'input' is required"):
        await registry.execute("base64-encoder", {"operation": "encode"}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'variant'"):
        await registry.execute("base64-encoder", {"input": "x", "variant": "base32"}, ctx)


async def test_input_limit(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base64_encoder, "MAX_INPUT_CHARS", 8)
    with pytest.raises(ValidationError, match=r"parameter 'input': 9 characters exceeds"):
        await Base64Encoder().execute({"input": "x" * 9}, ctx)
