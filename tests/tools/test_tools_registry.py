from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from llmspell.core.config import load_config
from llmspell.core.errors import (
    ConfigError,
    LimitExceeded,
    PermissionDenied,
    ToolError,
    ToolNotFound,
    ValidationError,
)
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.callable_tool import CallableTool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


class Echo(Tool):
    name: ClassVar[str] = "echo-text"
    description: ClassVar[str] = "Echo the input."
    category: ClassVar[str] = "text"
    tags: ClassVar[tuple[str, ...]] = ("demo",)
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "input": {"type": "string"},
            "times": {"type": "integer", "minimum": 1},
            "options": {
                "type": "object",
                "properties": {"sep": {"type": "string"}},
                "required": ["sep"],
            },
        },
        "required": ["input"],
        "additionalProperties": False,
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(result={"echo": params["input"] * params.get("times", 1)})


class Writer(Tool):
    name: ClassVar[str] = "writer"
    description: ClassVar[str] = "Pretends to write."
    category: ClassVar[str] = "filesystem"
    security_level: ClassVar = "privileged"
    side_effects: ClassVar[bool] = True
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}

    def __init__(self) -> None:
        self.calls = 0

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        self.calls += 1
        return ToolResult(result="written")


def ctx_for(**kwargs: Any) -> ToolContext:
    mode = kwargs.pop("mode", "auto")
    return PermissionPolicy(**kwargs).context(mode=mode)


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(Echo())
    reg.register(Writer(), source="python", aliases=["scribe"])
    return reg


def test_lookup_by_canonical_snake_case_and_alias(registry: ToolRegistry) -> None:
    assert registry.get("echo-text").name == "echo-text"
    assert registry.get("echo_text").name == "echo-text"
    assert registry.get("scribe").name == "writer"
    assert registry.exists("echo_text")
    assert not registry.exists("nope")
    assert registry.find("nope") is None
    with pytest.raises(ToolNotFound, match="tool 'nope' not found"):
        registry.get("nope")


def test_list_categories_info_specs(registry: ToolRegistry) -> None:
    assert registry.names() == ["echo-text", "writer"]
    assert [t["name"] for t in registry.list(category="text")] == ["echo-text"]
    assert [t["name"] for t in registry.list(tag="demo")] == ["echo-text"]
    assert registry.categories() == ["filesystem", "text"]
    info = registry.info("scribe")
    assert info["source"] == "python"
    assert info["security_level"] == "privileged"
    assert info["schema"] == Writer.parameters
    assert set(info) >= {"name", "description", "version", "category", "schema", "source"}
    assert registry.specs(["echo_text"]) == [
        {"name": "echo-text", "description": "Echo the input.", "parameters": Echo.parameters}
    ]
    assert len(registry.specs()) == 2


def test_duplicate_registration(registry: ToolRegistry) -> None:
    with pytest.raises(ValidationError, match="'echo-text' is already registered"):
        registry.register(Echo())
    with pytest.raises(ValidationError, match="already registered"):
        registry.register(CallableTool("echo_text", "d", None, _const(1)))
    registry.register(CallableTool("echo-text", "new", None, _const(1)), replace=True)
    assert registry.get("echo-text").description == "new"
    registry.register(Echo(), skip_existing=True)
    assert registry.get("echo-text").description == "new"
    assert registry.unregister("echo_text")
    assert not registry.exists("echo-text")
    assert not registry.unregister("echo-text")


def test_bad_schema_is_refused() -> None:
    class ListTool(Echo):
        parameters: ClassVar[dict[str, Any]] = {"type": "array"}

    with pytest.raises(ValidationError, match=r"'echo-text': parameters must be .* type 'object'"):
        ToolRegistry().register(ListTool())
    with pytest.raises(ValidationError, match="'x': parameters must be a JSON schema"):
        CallableTool("x", "d", {"type": "array"}, _const(1))


async def test_execute_fills_text_and_metadata(registry: ToolRegistry) -> None:
    result = await registry.execute("echo_text", {"input": "ab", "times": 2}, ctx_for())
    assert result.result == {"echo": "abab"}
    assert result.text == '{"echo":"abab"}'
    assert result.metadata["tool"] == "echo-text"
    assert isinstance(result.metadata["duration_ms"], float)
    assert result.to_dict()["success"] is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "echo-text: parameter 'input' is required"),
        ({"input": 5}, "echo-text: parameter 'input': 5 is not of type 'string'"),
        ({"input": "a", "times": 0}, "parameter 'times': 0 is less than the minimum of 1"),
        ({"input": "a", "bogus": 1}, "parameter 'bogus' is not expected"),
        ({"input": "a", "options": {}}, "parameter 'options.sep' is required"),
        ([1, 2], "echo-text: parameters must be a table, got list"),
    ],
)
async def test_validation_names_the_parameter(
    registry: ToolRegistry, params: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await registry.execute("echo-text", params, ctx_for())


async def test_none_params_mean_empty(registry: ToolRegistry) -> None:
    assert (await registry.execute("writer", None, ctx_for())).result == "written"


async def test_denied_tool(registry: ToolRegistry) -> None:
    with pytest.raises(PermissionDenied, match=r'writer: the tool is denied.*writer = "deny"'):
        await registry.execute("writer", {}, ctx_for(tool_rules={"writer": "deny"}))


async def test_dry_run_records_and_does_not_execute(registry: ToolRegistry) -> None:
    ctx = ctx_for(mode="dry-run")
    writer = registry.get("writer")
    assert isinstance(writer, Writer)
    result = await registry.execute("writer", {}, ctx)
    assert writer.calls == 0
    assert result.result["executed"] is False
    assert result.metadata["dry_run"] is True
    assert "not executed" in (result.message or "")
    assert ctx.permissions.dry_run_log == [{"tool": "writer", "params": {}}]
    safe = await registry.execute("echo-text", {"input": "x"}, ctx)
    assert safe.result == {"echo": "x"}
    assert len(ctx.permissions.dry_run_log) == 1


async def test_strict_mode_asks(registry: ToolRegistry) -> None:
    asked = []

    async def approver(tool: str, params: dict[str, Any], reason: str) -> str:
        asked.append(tool)
        return "yes"

    ctx = PermissionPolicy(approver=approver).context(mode="strict")
    await registry.execute("echo-text", {"input": "x"}, ctx)
    await registry.execute("writer", {}, ctx)
    assert asked == ["writer"]
    with pytest.raises(PermissionDenied, match="strict mode"):
        await registry.execute("writer", {}, ctx_for(mode="strict"))


async def test_timeout_per_tool_and_per_context() -> None:
    async def slow(params: dict[str, Any], ctx: ToolContext) -> str:
        await asyncio.sleep(5)
        return "late"

    registry = ToolRegistry(timeouts={"slow_tool": 0.05})
    registry.register(CallableTool("slow-tool", "slow", None, slow))
    with pytest.raises(ToolError, match=r"slow-tool: timed out after 0.05 s"):
        await registry.execute("slow-tool", {}, ctx_for())
    registry = ToolRegistry(default_timeout=10)
    registry.register(CallableTool("slow-tool", "slow", None, slow))
    ctx = PermissionPolicy().context(timeout=0.05)
    with pytest.raises(ToolError, match="timed out"):
        await registry.execute("slow-tool", {}, ctx)


async def test_errors_are_prefixed_with_the_tool_name() -> None:
    async def failing(params: dict[str, Any], ctx: ToolContext) -> None:
        raise ToolError("disk on fire")

    async def crashing(params: dict[str, Any], ctx: ToolContext) -> None:
        raise KeyError("k")

    async def denied(params: dict[str, Any], ctx: ToolContext) -> None:
        ctx.check_write("/etc/passwd")

    registry = ToolRegistry()
    registry.register(CallableTool("failing", "f", None, failing))
    registry.register(CallableTool("crashing", "c", None, crashing))
    registry.register(CallableTool("denied", "d", None, denied))
    with pytest.raises(ToolError, match=r"^failing: disk on fire$"):
        await registry.execute("failing", {}, ctx_for())
    with pytest.raises(ToolError, match=r"^crashing: KeyError: 'k'$"):
        await registry.execute("crashing", {}, ctx_for())
    with pytest.raises(PermissionDenied, match=r"^denied: write to '/etc/passwd'"):
        await registry.execute("denied", {}, ctx_for())


async def test_tool_returning_wrong_type() -> None:
    class Bad(Tool):
        name: ClassVar[str] = "bad"
        description: ClassVar[str] = "b"
        category: ClassVar[str] = "x"
        parameters: ClassVar[dict[str, Any]] = {"type": "object"}

        async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
            return "oops"  # type: ignore[return-value]

    registry = ToolRegistry()
    registry.register(Bad())
    with pytest.raises(ToolError, match="bad: execute returned str, expected a ToolResult"):
        await registry.execute("bad", {}, ctx_for())


async def test_depth_limit(registry: ToolRegistry) -> None:
    limited = ToolRegistry(max_depth=2)
    limited.register(Echo())
    ctx = PermissionPolicy().context()
    ctx.depth = 3
    with pytest.raises(LimitExceeded, match="nested 3 deep; the limit is 2"):
        await limited.execute("echo-text", {"input": "x"}, ctx)


async def test_callable_tool_results_become_plain_data() -> None:
    from dataclasses import dataclass

    @dataclass
    class Point:
        x: int
        y: int

    registry = ToolRegistry()
    registry.register(CallableTool("point", "p", None, _const(Point(1, 2))), source="lua")
    result = await registry.execute("point", {}, ctx_for())
    assert result.result == {"x": 1, "y": 2}
    assert registry.source("point") == "lua"
    passthrough = ToolResult(result=1, text="one", success=False)
    registry.register(CallableTool("raw", "r", None, _const(passthrough)))
    assert (await registry.execute("raw", {}, ctx_for())).text == "one"


def test_callable_tool_checks_its_metadata() -> None:
    with pytest.raises(ValidationError, match="non-empty word"):
        CallableTool("has space", "d", None, _const(1))
    with pytest.raises(ValidationError, match="security_level"):
        CallableTool("x", "d", None, _const(1), security_level="root")  # type: ignore[arg-type]


def test_from_config_registers_builtins_and_validates_settings() -> None:
    config = load_config({"tools": {"timeout": 5, "timeouts": {"calculator": 1}}}, discover=False)
    registry = ToolRegistry.from_config(config, plugins=False)
    assert registry.exists("calculator")
    assert registry.exists("file_operations")
    assert registry.source("calculator") == "builtin"
    assert registry.max_depth == config.runtime.max_tool_depth
    assert registry.mcp is None
    with pytest.raises(ConfigError, match=r"tools.timeout"):
        ToolRegistry.from_config(load_config({"tools": {"timeout": -1}}, discover=False))


def _const(value: Any) -> Any:
    async def handler(params: dict[str, Any], ctx: ToolContext) -> Any:
        return value

    return handler
