from __future__ import annotations

import subprocess
import sys

import pytest

from llmspell.core.config import load_config
from llmspell.core.errors import ConfigError
from llmspell.tools.builtin import builtin_tools
from llmspell.tools.builtin.http_requester import HttpRequesterTool

SPEC_NAMES = {
    "base64-encoder",
    "calculator",
    "csv-analyzer",
    "data-validator",
    "datetime-handler",
    "diff-calculator",
    "environment-reader",
    "file-operations",
    "file-search",
    "hash-calculator",
    "http-requester",
    "json-processor",
    "process-executor",
    "system-monitor",
    "template-creator",
    "text-manipulator",
    "uuid-generator",
    "web-searcher",
}


def test_every_builtin_of_the_spec_is_there() -> None:
    names = [tool.name for tool in builtin_tools()]
    assert set(names) == SPEC_NAMES
    assert len(names) == len(set(names))


def test_side_effecting_builtins_are_marked() -> None:
    tools = {tool.name: tool for tool in builtin_tools()}
    for name in ("file-operations", "http-requester", "web-searcher", "process-executor"):
        assert tools[name].side_effects, name
        assert tools[name].security_level != "safe", name
    for name in ("environment-reader", "system-monitor", "file-search"):
        assert tools[name].security_level == "restricted", name


def test_options_come_from_tool_tables() -> None:
    config = load_config(
        {"tools": {"http-requester": {"timeout": 3, "max_bytes": 10}}}, discover=False
    )
    http = next(t for t in builtin_tools(config) if t.name == "http-requester")
    assert isinstance(http, HttpRequesterTool)
    assert (http.timeout, http.max_bytes) == (3.0, 10)
    bad = load_config({"tools": {"http-requester": {"speed": 3}}}, discover=False)
    with pytest.raises(ConfigError, match=r"unknown option 'tools.http-requester.speed'"):
        builtin_tools(bad)
    with pytest.raises(ConfigError, match=r"unknown option 'tools.calculator.x'"):
        builtin_tools(load_config({"tools": {"calculator": {"x": 1}}}, discover=False))


def test_listing_builtins_imports_no_heavy_library() -> None:
    code = (
        "import sys; from llmspell.tools.builtin import builtin_tools; builtin_tools(); "
        "import llmspell.tools.registry, llmspell.tools.permissions; "
        "heavy = ('httpx', 'pydantic', 'jsonschema', 'jinja2', 'mcp', 'psutil', 'yaml'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
