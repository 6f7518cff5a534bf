"""The fast schema check: it accepts only what ``jsonschema`` accepts, and covers the common
schemas (every built-in tool's)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from llmspell.core.config import Config
from llmspell.core.errors import ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.callable_tool import CallableTool
from llmspell.tools.registry import ToolRegistry
from llmspell.tools.schema_check import compile_check

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"n": {"type": "integer"}}},
    {
        "type": "object",
        "properties": {
            "op": {"type": "string", "enum": ["add", "sub"], "description": "what"},
            "x": {"type": "number", "minimum": 0, "exclusiveMaximum": 10},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 3},
            "id": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
            "opt": {"type": ["string", "null"], "default": None},
            "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        "required": ["op"],
        "additionalProperties": False,
    },
    {"type": "object", "properties": {"v": {"maximum": 3}, "w": {"enum": ["a", 1, True, 2.0]}}},
]

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, 1.0, 2.0, 2.5, 9.99, 10.0])
    | st.text(max_size=6)
    | st.sampled_from(["add", "sub", "abc", "ABC", "", "a"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["op", "x", "tags", "id", "opt", "meta", "n", "v"]), inner
        )
    ),
    max_leaves=10,
)
PARAMS = st.dictionaries(
    st.sampled_from(["op", "x", "tags", "id", "opt", "meta", "n", "v", "w", "other"]),
    JSON,
    max_size=5,
)


def builtin_schemas() -> list[dict[str, Any]]:
    registry = ToolRegistry.from_config(Config(), plugins=False)
    return [registry.get(name).parameters for name in registry.names()]


@settings(max_examples=400, deadline=None)
@given(schema=st.sampled_from(SCHEMAS), params=PARAMS)
def test_accepts_only_what_jsonschema_accepts(schema: dict[str, Any], params: Any) -> None:
    check = compile_check(schema)
    assert check is not None
    if check(params):
        assert Draft202012Validator(schema).is_valid(params), params


def test_decides_the_common_cases_alone() -> None:
    check = compile_check(SCHEMAS[1])
    assert check is not None
    assert check({"op": "add", "x": 9.5, "tags": ["a"], "id": "ab", "opt": None, "meta": {"a": 1}})
    assert check({"op": "sub", "x": 0})
    for invalid in (
        {},
        {"op": "mul"},
        {"op": "add", "x": 10},
        {"op": "add", "x": True},
        {"op": "add", "tags": [""]},
        {"op": "add", "tags": ["a", "b", "c", "d"]},
        {"op": "add", "id": "Abc"},
        {"op": "add", "id": "abcdef"},
        {"op": "add", "meta": {"a": 1.5}},
        {"op": "add", "extra": 1},
    ):
        assert not check(invalid), invalid
    integer = compile_check({"type": "integer"})
    assert integer is not None and integer(2) and integer(2.0) and not integer(2.5)
    assert not integer(True)


def test_values_of_other_types_are_left_to_jsonschema() -> None:
    class Number(int):
        pass

    check = compile_check({"maximum": 3})
    assert check is not None
    assert check("text") and check(2)
    assert not check(Number(5))  # jsonschema sees a number above the maximum


def test_schemas_beyond_the_common_keywords_get_no_check() -> None:
    schemas: tuple[dict[str, Any], ...] = (
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}},
        {"type": "object", "anyOf": [{"required": ["a"]}]},
        {"type": "object", "patternProperties": {"^x": {}}},
        {"type": "array", "items": [{"type": "string"}]},
        {"enum": []},
        {"type": "decimal"},
    )
    for schema in schemas:
        assert compile_check(schema) is None, schema


def test_every_builtin_tool_schema_has_a_fast_check() -> None:
    assert all(compile_check(schema) is not None for schema in builtin_schemas())


async def test_the_registry_reports_the_same_errors_with_the_fast_check() -> None:
    async def echo(params: dict[str, Any], ctx: ToolContext) -> Any:
        return params

    registry = ToolRegistry()
    registry.register(CallableTool("echo", "echoes", SCHEMAS[1], echo))
    assert registry.validate("echo", {"op": "add", "x": 1}) == {"op": "add", "x": 1}
    with pytest.raises(ValidationError, match="parameter 'op' is required"):
        registry.validate("echo", {})
    with pytest.raises(ValidationError, match=r"parameter 'tags\[0\]'"):
        registry.validate("echo", {"op": "add", "tags": [""]})
    with pytest.raises(ValidationError, match="parameter 'extra' is not expected"):
        registry.validate("echo", {"op": "add", "extra": 1})
