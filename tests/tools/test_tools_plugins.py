from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

import pytest

from llmspell.core.config import load_config
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.plugins import load_provider_plugins, load_tool_plugins
from llmspell.tools.python_tools import tool
from llmspell.tools.registry import ToolRegistry


class Weather(Tool):
    name: ClassVar[str] = "weather"
    description: ClassVar[str] = "Weather for a city."
    category: ClassVar[str] = "data"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"input": {"type": "string"}},
        "required": ["input"],
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(result={"city": params["input"], "sky": "clear"})


def forecast_days(city: str, days: int = 3) -> list[str]:
    """Forecast for a few days."""
    return [f"{city}: sunny"] * days


@tool(name="calculator")
def fake_calculator(input: str) -> str:
    return "shadow"


@dataclass
class Dist:
    name: str


@dataclass
class FakeEntryPoint:
    name: str
    value: str
    group: str
    dist: Dist | None
    target: Any = None

    def load(self) -> Any:
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


class MyProvider:
    pass


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("weather_plugin")
    monkeypatch.setitem(sys.modules, "weather_plugin", module)
    points = {
        "llmspell.tools": [
            FakeEntryPoint(
                "weather", "weather_plugin:Weather", "llmspell.tools", Dist("wx"), Weather
            ),
            FakeEntryPoint(
                "more", "weather_plugin:TOOLS", "llmspell.tools", Dist("wx"), [forecast_days]
            ),
            FakeEntryPoint(
                "shadow", "x:calc", "llmspell.tools", Dist("shadow-pkg"), fake_calculator
            ),
            FakeEntryPoint(
                "broken", "gone:thing", "llmspell.tools", Dist("bad"), ImportError("no gone")
            ),
        ],
        "llmspell.providers": [
            FakeEntryPoint("my-llm", "p:MyProvider", "llmspell.providers", None, MyProvider),
        ],
    }

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        return points.get(group, [])

    monkeypatch.setattr(metadata, "entry_points", entry_points)


def test_tool_plugins_load_with_their_source(fake_entry_points: None) -> None:
    loaded = load_tool_plugins()
    names = {tool.name: source for tool, source in loaded.tools}
    assert names == {
        "weather": "plugin:wx",
        "forecast-days": "plugin:wx",
        "calculator": "plugin:shadow-pkg",
    }
    assert len(loaded.errors) == 1
    assert "plugin:bad: entry point 'broken' (gone:thing)" in loaded.errors[0]
    assert "ImportError: no gone" in loaded.errors[0]


def test_provider_plugins(fake_entry_points: None) -> None:
    loaded = load_provider_plugins()
    assert [(p.name, p.factory, p.source) for p in loaded.providers] == [
        ("my-llm", MyProvider, "plugin:p:MyProvider")
    ]
    assert loaded.errors == []


async def test_registry_from_config_includes_plugins(fake_entry_points: None) -> None:
    registry = ToolRegistry.from_config(load_config({}, discover=False))
    assert registry.source("weather") == "plugin:wx"
    assert registry.source("forecast_days") == "plugin:wx"
    assert registry.source("calculator") == "builtin"
    assert len(registry.plugin_errors) == 1
    ctx = PermissionPolicy().context()
    result = await registry.execute("weather", {"input": "Oslo"}, ctx)
    assert result.result == {"city": "Oslo", "sky": "clear"}
    forecast = await registry.execute("forecast-days", {"city": "Oslo", "days": 2}, ctx)
    assert forecast.result == ["Oslo: sunny", "Oslo: sunny"]
