"""calculator: evaluation, variables, functions, validation and limits."""

from __future__ import annotations

import pytest

from llmspell.core.errors import ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin.calculator import MAX_EXPRESSION_LENGTH, Calculator
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx() -> ToolContext:
    return PermissionPolicy().context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(Calculator())
    return registry


async def evaluate(registry: ToolRegistry, ctx: ToolContext, expr: str, **extra: object) -> object:
    result = await registry.execute("calculator", {"input": expr, **extra}, ctx)
    assert result.success
    return result.result["result"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("2 + 2 * 3", 8),
        ("7 / 2", 3.5),
        ("6 / 2", 3),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("2 ^ 3 + 1", 9),
        ("2 ** 10", 1024),
        ("-(3 - 5)", 2),
        ("max(1, 5, 3) + min(4, 2)", 7),
        ("floor(7.9) + ceil(0.1)", 8),
        ("round(2.567, 2)", 2.57),
        ("abs(-4) * pow(2, 3)", 32),
        ("log(8, 2)", 3.0),
        ("1 < 2 and 3 >= 3", True),
        ("1 if 2 > 3 else 0", 0),
    ],
)
async def test_evaluates(
    registry: ToolRegistry, ctx: ToolContext, expr: str, expected: object
) -> None:
    value = await evaluate(registry, ctx, expr)
    assert value == expected
    assert type(value) is type(expected)


async def test_result_shape_and_text(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute(
        "calculator", {"operation": "evaluate", "input": "2 + 2 * 3"}, ctx
    )
    data = result.to_dict()
    assert data["success"] is True
    assert data["operation"] == "evaluate"
    assert data["result"] == {"result": 8, "expression": "2 + 2 * 3"}
    assert data["text"] == "8"
    assert data["metadata"]["tool"] == "calculator"


async def test_functions_and_constants(registry: ToolRegistry, ctx: ToolContext) -> None:
    assert await evaluate(registry, ctx, "sqrt(16)") == 4.0
    assert await evaluate(registry, ctx, "sin(0) + cos(0) + tan(0)") == 1.0
    assert await evaluate(registry, ctx, "exp(0) + log(e)") == 2.0
    assert await evaluate(registry, ctx, "pi") == pytest.approx(3.14159265)


async def test_variables(registry: ToolRegistry, ctx: ToolContext) -> None:
    value = await evaluate(registry, ctx, "x * y + 1", variables={"x": 2, "y": 3.5})
    assert value == 8.0


async def test_unknown_name_is_a_validation_error(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"calculator: parameter 'input': unknown name 'y'"):
        await evaluate(registry, ctx, "y + 1")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('x')", "only the math functions can be called"),
        ("(1).__class__", "'Attribute' is not allowed"),
        ("'a' * 3", "only numbers are allowed"),
        ("[1, 2]", "'List' is not allowed"),
        ("lambda: 1", "'Lambda' is not allowed"),
        ("2 +", "invalid syntax"),
        ("sqrt(x=4)", "no keyword arguments"),
    ],
)
async def test_rejects_non_arithmetic(
    registry: ToolRegistry, ctx: ToolContext, expr: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=r"parameter 'input'") as info:
        await evaluate(registry, ctx, expr)
    assert message in str(info.value)


async def test_schema_errors_name_the_parameter(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValidationError, match=r"parameter 'variables.x'"):
        await registry.execute("calculator", {"input": "x", "variables": {"x": "two"}}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'operation'"):
        await registry.execute("calculator", {"operation": "solve", "input": "1"}, ctx)
    with pytest.raises(ValidationError, match=r"parameter 'input'"):
        await registry.execute("calculator", {}, ctx)


async def test_evaluation_errors(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="division by zero"):
        await evaluate(registry, ctx, "1 / 0")
    with pytest.raises(ToolError, match="cannot evaluate"):
        await evaluate(registry, ctx, "sqrt(-1)")
    with pytest.raises(ToolError, match="not a real number"):
        await evaluate(registry, ctx, "(-8) ** 0.5")


@pytest.mark.parametrize("expr", ["9 ** 9 ** 9", "(10 ** 1000) ** 1000", "10**5000 * 10**5000"])
async def test_huge_integers_are_refused(
    registry: ToolRegistry, ctx: ToolContext, expr: str
) -> None:
    with pytest.raises(ToolError, match="number too large"):
        await evaluate(registry, ctx, expr)


async def test_float_overflow_is_refused(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="number too large"):
        await evaluate(registry, ctx, "exp(1000)")
    with pytest.raises(ToolError, match="not a finite number"):
        await evaluate(registry, ctx, "1e308 * 10")


async def test_long_expression_is_refused(ctx: ToolContext) -> None:
    expr = "1+" * MAX_EXPRESSION_LENGTH + "1"
    with pytest.raises(ValidationError, match=r"parameter 'input'"):
        await Calculator().execute({"input": expr}, ctx)


async def test_validate(registry: ToolRegistry, ctx: ToolContext) -> None:
    ok = await registry.execute(
        "calculator", {"operation": "validate", "input": "x + 1", "variables": {"x": 1}}, ctx
    )
    assert ok.result == {"valid": True, "expression": "x + 1", "error": None}
    bad = await registry.execute("calculator", {"operation": "validate", "input": "x +"}, ctx)
    assert bad.result["valid"] is False
    assert "invalid syntax" in bad.result["error"]


async def test_functions_listing(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute("calculator", {"operation": "functions"}, ctx)
    assert {"sqrt", "sin", "log", "pow"} <= set(result.result["functions"])
    assert {"pi", "e"} <= set(result.result["constants"])
