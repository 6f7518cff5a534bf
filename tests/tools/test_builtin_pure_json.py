"""json-processor and data-validator: JMESPath queries, parsing, formatting, JSON Schema."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin import data_validator, json_processor
from llmspell.tools.builtin.data_validator import DataValidator
from llmspell.tools.builtin.json_processor import JsonProcessor
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry

PEOPLE = '{"people": [{"name": "Ann", "age": 31}, {"name": "Bob", "age": 25}]}'


@pytest.fixture
def ctx() -> ToolContext:
    return PermissionPolicy().context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(JsonProcessor())
    registry.register(DataValidator())
    return registry


async def test_query_json_text(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute(
        "json-processor", {"input": PEOPLE, "query": "people[?age > `30`].name"}, ctx
    )
    assert result.result == ["Ann"]
    assert result.text == '["Ann"]'
    single = await registry.execute(
        "json-processor", {"input": PEOPLE, "query": "people[1].name"}, ctx
    )
    assert single.result == "Bob"
    assert single.text == "Bob"


async def test_query_structured_input(registry: ToolRegistry, ctx: ToolContext) -> None:
    data = {"items": [{"price": 2}, {"price": 3}]}
    result = await registry.execute(
        "json_processor", {"operation": "query", "input": data, "query": "sum(items[].price)"}, ctx
    )
    assert result.result == 5


async def test_query_errors(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"json-processor: parameter 'query'"):
        await registry.execute("json-processor", {"input": PEOPLE, "query": "people[?"}, ctx)
    with pytest.raises(ValidationError, match=r"json-processor: parameter 'query' is required"):
        await registry.execute("json-processor", {"input": PEOPLE}, ctx)
    with pytest.raises(ToolError, match="failed"):
        await registry.execute("json-processor", {"input": PEOPLE, "query": "sum(people)"}, ctx)


async def test_validate_and_parse(registry: ToolRegistry, ctx: ToolContext) -> None:
    ok = await registry.execute("json-processor", {"operation": "validate", "input": PEOPLE}, ctx)
    assert ok.result == {"valid": True, "error": None, "type": "object"}
    bad = await registry.execute(
        "json-processor", {"operation": "validate", "input": '{"a": 1,\n "b": }'}, ctx
    )
    assert bad.result["valid"] is False
    assert "line 2" in bad.result["error"]
    nan = await registry.execute("json-processor", {"operation": "validate", "input": "NaN"}, ctx)
    assert nan.result["valid"] is False
    parsed = await registry.execute(
        "json-processor", {"operation": "parse", "input": "[1, 2.5]"}, ctx
    )
    assert parsed.result == [1, 2.5]
    with pytest.raises(ValidationError, match=r"parameter 'input': invalid JSON at line 1"):
        await registry.execute("json-processor", {"operation": "parse", "input": "{"}, ctx)


async def test_format_and_minify(registry: ToolRegistry, ctx: ToolContext) -> None:
    pretty = await registry.execute(
        "json-processor",
        {"operation": "format", "input": '{"b": 1, "a": [1]}', "indent": 4, "sort_keys": True},
        ctx,
    )
    assert pretty.text == '{\n    "a": [\n        1\n    ],\n    "b": 1\n}'
    mini = await registry.execute(
        "json-processor", {"operation": "minify", "input": {"a": [1, "é"]}}, ctx
    )
    assert mini.text == '{"a":[1,"é"]}'
    with pytest.raises(ValidationError, match=r"parameter 'indent'"):
        await registry.execute(
            "json-processor", {"operation": "format", "input": "1", "indent": 20}, ctx
        )


async def test_input_limit(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_processor, "MAX_INPUT_CHARS", 10)
    with pytest.raises(ValidationError, match=r"parameter 'input': 11 characters exceeds"):
        await JsonProcessor().execute({"operation": "parse", "input": "[" + "1," * 4 + "1]"}, ctx)
    deep = "[" * 100_000 + "]" * 100_000
    monkeypatch.setattr(json_processor, "MAX_INPUT_CHARS", 1_000_000)
    with pytest.raises(ValidationError, match="nested too deeply"):
        await JsonProcessor().execute({"operation": "parse", "input": deep}, ctx)


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "items"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "email": {"type": "string", "format": "email"},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"price": {"type": "number", "minimum": 0}}},
        },
    },
}


async def test_valid_data(registry: ToolRegistry, ctx: ToolContext) -> None:
    data = {"name": "order", "items": [{"price": 2}]}
    result = await registry.execute("data-validator", {"input": data, "schema": SCHEMA}, ctx)
    assert result.result == {"valid": True, "errors": [], "error_count": 0, "truncated": False}
    assert result.text == "valid"


async def test_errors_are_listed_with_paths(registry: ToolRegistry, ctx: ToolContext) -> None:
    data = {"name": "", "email": "not-an-email", "items": [{"price": 1}, {"price": -1}]}
    result = await registry.execute("data-validator", {"input": data, "schema": SCHEMA}, ctx)
    report = result.result
    assert report["valid"] is False
    paths = {e["path"]: e["keyword"] for e in report["errors"]}
    assert paths == {"$.email": "format", "$.items[1].price": "minimum", "$.name": "minLength"}
    assert "$.items[1].price: -1 is less than the minimum of 0" in str(result.text)


async def test_json_text_input_and_schema(registry: ToolRegistry, ctx: ToolContext) -> None:
    params = {"input": '{"a": "x"}', "schema": '{"properties": {"a": {"type": "integer"}}}'}
    as_string = await registry.execute("data-validator", params, ctx)
    assert as_string.result["valid"] is True
    parsed = await registry.execute("data-validator", {**params, "parse_json": True}, ctx)
    assert parsed.result["errors"][0]["path"] == "$.a"


async def test_max_errors(registry: ToolRegistry, ctx: ToolContext) -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    result = await registry.execute(
        "data-validator", {"input": list(range(10)), "schema": schema, "max_errors": 3}, ctx
    )
    assert result.result["error_count"] == 3
    assert result.result["truncated"] is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"input": 1, "schema": {"type": "integer", "minimum": "zero"}}, "invalid schema"),
        ({"input": 1, "schema": {"$ref": "https://example.com/s.json"}}, "unresolvable"),
        ({"input": 1, "schema": "{not json"}, "invalid JSON"),
        ({"input": 1, "schema": []}, "schema"),
    ],
)
async def test_bad_schemas_name_the_parameter(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=r"data-validator: parameter 'schema'") as info:
        await registry.execute("data-validator", params, ctx)
    assert message in str(info.value)


async def test_missing_parameters(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"parameter 'schema' is required"):
        await registry.execute("data-validator", {"input": 1}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'max_errors'"):
        await registry.execute("data-validator", {"input": 1, "schema": {}, "max_errors": 0}, ctx)


async def test_validator_text_limit(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_validator, "MAX_INPUT_CHARS", 10)
    params = {"input": '["a", "b", "c"]', "schema": {}, "parse_json": True}
    with pytest.raises(ValidationError, match=r"data-validator: parameter 'input': 15 characters"):
        await DataValidator().execute(params, ctx)
