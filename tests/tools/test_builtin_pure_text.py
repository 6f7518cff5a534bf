"""text-manipulator: every operation, parameter errors and size limits."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin import text_manipulator
from llmspell.tools.builtin.text_manipulator import TextManipulator, words
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx() -> ToolContext:
    return PermissionPolicy().context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(TextManipulator())
    return registry


async def run(registry: ToolRegistry, ctx: ToolContext, **params: Any) -> Any:
    result = await registry.execute("text-manipulator", params, ctx)
    assert result.success
    assert result.operation == params["operation"]
    return result


@pytest.mark.parametrize(
    ("operation", "text", "extra", "expected"),
    [
        ("uppercase", "Hello wörld", {}, "HELLO WÖRLD"),
        ("lowercase", "HeLLo", {}, "hello"),
        ("reverse", "abc", {}, "cba"),
        ("trim", "  a b \n", {}, "a b"),
        ("replace", "a-b-c", {"from": "-", "to": "+"}, "a+b+c"),
        ("replace", "a-b-c", {"from": "-"}, "abc"),
        ("substring", "hello world", {"start": 0, "end": 5}, "hello"),
        ("substring", "hello world", {"start": 6}, "world"),
        ("substring", "hello world", {"start": -5}, "world"),
        ("snake_case", "HTTPServer userId", {}, "http_server_user_id"),
        ("kebab_case", "Hello World", {}, "hello-world"),
        ("camel_case", "hello_big-world", {}, "helloBigWorld"),
        ("pascal_case", "hello big world", {}, "HelloBigWorld"),
        ("truncate", "hello world", {"length": 8}, "hello..."),
        ("truncate", "hello", {"length": 8}, "hello"),
        ("truncate", "hello world", {"length": 6, "suffix": "~"}, "hello~"),
        ("word_wrap", "aaa bbb ccc", {"width": 7}, "aaa bbb\nccc"),
        ("normalize_whitespace", "  a \t b\n\nc  ", {}, "a b c"),
    ],
)
async def test_string_operations(
    registry: ToolRegistry,
    ctx: ToolContext,
    operation: str,
    text: str,
    extra: dict[str, Any],
    expected: str,
) -> None:
    result = await run(registry, ctx, operation=operation, input=text, **extra)
    assert result.result == expected
    assert result.text == expected


async def test_split_and_join(registry: ToolRegistry, ctx: ToolContext) -> None:
    split = await run(registry, ctx, operation="split", input="a,b,,c", separator=",")
    assert split.result == ["a", "b", "", "c"]
    assert split.text == '["a","b","","c"]'
    words_only = await run(registry, ctx, operation="split", input=" a  b ")
    assert words_only.result == ["a", "b"]
    joined = await run(registry, ctx, operation="join", input=["a", 1, "c"], separator="-")
    assert joined.result == "a-1-c"
    empty = await run(registry, ctx, operation="join", input={}, separator="-")
    assert empty.result == ""


def test_words_splits_identifiers() -> None:
    assert words("parseHTTPResponse2Fast") == ["parse", "HTTP", "Response2", "Fast"]
    assert words("  already_snake-case ") == ["already", "snake", "case"]
    assert words("") == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"operation": "replace", "input": "x"}, "from"),
        ({"operation": "replace", "input": "x", "from": ""}, "from"),
        ({"operation": "truncate", "input": "x"}, "length"),
        ({"operation": "truncate", "input": "hello", "length": 1}, "length"),
        ({"operation": "join", "input": "abc"}, "input"),
        ({"operation": "join", "input": ["a", {"b": 1}]}, "input"),
        ({"operation": "uppercase", "input": ["a"]}, "input"),
    ],
)
async def test_operation_parameters_are_checked(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ValidationError, match=rf"text-manipulator: parameter '{parameter}'"):
        await registry.execute("text-manipulator", params, ctx)


async def test_schema_errors(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"parameter 'operation'"):
        await registry.execute("text-manipulator", {"operation": "shout", "input": "x"}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'input' is required"):
        await registry.execute("text-manipulator", {"operation": "uppercase"}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'width'"):
        await registry.execute(
            "text-manipulator", {"operation": "word_wrap", "input": "x", "width": 0}, ctx
        )


async def test_limits(
    registry: ToolRegistry, ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_manipulator, "MAX_TEXT_CHARS", 100)
    with pytest.raises(ValidationError, match=r"parameter 'input': 101 characters exceeds"):
        await registry.execute("text-manipulator", {"operation": "trim", "input": "x" * 101}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'to': the result would exceed"):
        await registry.execute(
            "text-manipulator",
            {"operation": "replace", "input": "a" * 50, "from": "a", "to": "bbb"},
            ctx,
        )
    with pytest.raises(ValidationError, match=r"parameter 'input': the result would exceed"):
        await registry.execute(
            "text-manipulator", {"operation": "join", "input": ["x" * 60, "y" * 60]}, ctx
        )
