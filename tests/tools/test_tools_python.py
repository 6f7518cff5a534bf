from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from llmspell.core.errors import ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.python_tools import FunctionTool, parse_docstring, to_tool, tool
from llmspell.tools.registry import ToolRegistry


class Address(BaseModel):
    city: str
    zip_code: str | None = None


@tool
def add_numbers(a: int, b: int = 2) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number,
            added to the first.
    """
    return a + b


@tool(name="shout", description="Upper-case a word.", category="text", tags=("demo",))
async def make_loud(word: str, style: Literal["plain", "bang"] = "plain") -> dict[str, Any]:
    return {"text": word.upper() + ("!" if style == "bang" else "")}


def ctx() -> ToolContext:
    return PermissionPolicy().context()


def test_decorator_builds_schema_from_hints_and_docstring() -> None:
    assert isinstance(add_numbers, FunctionTool)
    assert add_numbers.name == "add-numbers"
    assert add_numbers.description == "Add two numbers."
    schema = add_numbers.parameters
    assert schema["type"] == "object"
    assert schema["required"] == ["a"]
    assert schema["properties"]["a"] == {"type": "integer", "description": "The first number."}
    assert schema["properties"]["b"]["default"] == 2
    assert schema["properties"]["b"]["description"] == "The second number, added to the first."
    assert schema["additionalProperties"] is False


def test_decorator_options_and_literal() -> None:
    assert make_loud.name == "shout"
    assert make_loud.category == "text"
    assert make_loud.tags == ("demo",)
    assert make_loud.parameters["properties"]["style"]["enum"] == ["plain", "bang"]


def test_decorated_function_stays_callable() -> None:
    assert add_numbers(1, 2) == 3


async def test_sync_function_runs_in_a_worker_thread() -> None:
    seen = []

    @tool
    def where() -> str:
        seen.append(threading.current_thread() is threading.main_thread())
        return "ok"

    result = await where.execute({}, ctx())
    assert result.result == "ok"
    assert seen == [False]


async def test_async_function_and_registry_execution() -> None:
    registry = ToolRegistry()
    registry.register(add_numbers, source="python")
    registry.register(make_loud, source="python")
    assert (await registry.execute("add_numbers", {"a": 40}, ctx())).result == 42
    result = await registry.execute("shout", {"word": "hi", "style": "bang"}, ctx())
    assert result.result == {"text": "HI!"}
    with pytest.raises(ValidationError, match="shout: parameter 'style'"):
        await registry.execute("shout", {"word": "hi", "style": "loud"}, ctx())


async def test_pydantic_models_constraints_and_context_injection() -> None:
    @tool
    def locate(
        address: Address,
        radius: Annotated[float, Field(gt=0, description="Radius in km")],
        context: ToolContext,
    ) -> Address:
        """Find a place."""
        assert context.mode == "auto"
        return Address(city=address.city.title(), zip_code=str(radius))

    assert "context" not in locate.parameters["properties"]
    assert locate.parameters["properties"]["radius"]["description"] == "Radius in km"
    result = await locate.execute({"address": {"city": "paris"}, "radius": 2}, ctx())
    assert result.result == {"city": "Paris", "zip_code": "2.0"}
    with pytest.raises(ValidationError, match=r"locate: parameter 'radius': .*greater than 0"):
        await locate.execute({"address": {"city": "x"}, "radius": 0}, ctx())
    with pytest.raises(ValidationError, match=r"parameter 'address.city': Field required"):
        await locate.execute({"address": {}, "radius": 1}, ctx())


def test_unsupported_signatures_are_refused() -> None:
    def variadic(*args: int) -> int:
        return 0

    with pytest.raises(ValidationError, match=r"parameter 'args' must be a named parameter"):
        FunctionTool(variadic)
    with pytest.raises(ValidationError, match="must be a function"):
        FunctionTool(42)  # type: ignore[arg-type]


def test_rest_docstrings() -> None:
    summary, params = parse_docstring(
        "Do a thing.\n\nMore detail.\n\n:param int x: the x value\n:param y: the y\n:returns: z"
    )
    assert summary == "Do a thing. More detail."
    assert params == {"x": "the x value", "y": "the y"}


def test_to_tool() -> None:
    assert to_tool(add_numbers) is add_numbers

    def plain(x: str) -> str:
        return x

    made = to_tool(plain, name="plain-tool", description="Plain.")
    assert made.name == "plain-tool"
    with pytest.raises(ValidationError, match="already a tool"):
        to_tool(add_numbers, name="other")
    with pytest.raises(ValidationError, match="expected a tool or a function"):
        to_tool(3)
