"""MCP tools against a small stdio server written with the mcp package (mcp_server_fixture.py).

Starting a Python MCP server takes a few seconds, so one server serves the whole module."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from llmspell.core.config import load_config
from llmspell.core.errors import ConfigError, PermissionDenied, ToolError, ToolNotFound
from llmspell.tools.mcp_client import McpManager, McpServerConfig
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry

SERVER = str(Path(__file__).with_name("mcp_server_fixture.py"))
module_loop = pytest.mark.asyncio(loop_scope="module")


def mcp_config(**extra: object) -> dict[str, object]:
    return {"mcp": {"servers": {"demo": {"command": sys.executable, "args": [SERVER], **extra}}}}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def registry() -> AsyncIterator[ToolRegistry]:
    config = load_config(mcp_config(timeout=2), discover=False)
    reg = ToolRegistry.from_config(config, builtins=False, plugins=False)
    yield reg
    await reg.close()


@module_loop
async def test_server_starts_on_first_use(registry: ToolRegistry) -> None:
    assert registry.mcp is not None
    assert registry.mcp.server_names == ["demo"]
    assert not registry.mcp.is_running("demo")
    assert not registry.exists("demo.add")
    result = await registry.execute("demo.add", {"a": 2, "b": 3}, PermissionPolicy().context())
    assert registry.mcp.is_running("demo")
    assert result.result == {"result": 5}
    assert result.text == "5"
    assert result.metadata["tool"] == "demo.add"
    assert result.metadata["mcp_server"] == "demo"


@module_loop
async def test_tools_are_listed_with_their_source_and_schema(registry: ToolRegistry) -> None:
    await registry.prepare(["demo.echo"])
    names = registry.names(category="mcp")
    assert {"demo.add", "demo.echo", "demo.fail", "demo.slow"} <= set(names)
    info = registry.info("demo.echo")
    assert info["source"] == "mcp:demo"
    assert info["security_level"] == "restricted"
    assert info["schema"]["required"] == ["text"]
    spec = registry.specs(["demo.echo"])[0]
    assert spec["description"] == "Return the text unchanged."


@module_loop
async def test_schema_validation_and_errors(registry: ToolRegistry) -> None:
    ctx = PermissionPolicy().context()
    with pytest.raises(Exception, match=r"demo.add: parameter 'b' is required"):
        await registry.execute("demo.add", {"a": 1}, ctx)
    with pytest.raises(ToolError, match=r"^demo.fail: "):
        await registry.execute("demo.fail", {"reason": "boom"}, ctx)
    with pytest.raises(ToolNotFound, match=r"tool 'demo.nope' not found"):
        await registry.execute("demo.nope", {}, ctx)


@module_loop
async def test_call_timeout(registry: ToolRegistry) -> None:
    ctx = PermissionPolicy().context(timeout=0.2)
    with pytest.raises(ToolError, match="timed out"):
        await registry.execute("demo.slow", {"seconds": 5}, ctx)
    result = await registry.execute("demo.echo", {"text": "still alive"}, ctx)
    assert result.text == "still alive"


@module_loop
async def test_mcp_calls_obey_rules_and_modes(registry: ToolRegistry) -> None:
    denied = PermissionPolicy(tool_rules={"demo.echo": "deny"}).context()
    with pytest.raises(PermissionDenied, match=r"demo.echo: the tool is denied"):
        await registry.execute("demo.echo", {"text": "x"}, denied)
    dry = PermissionPolicy().context(mode="dry-run")
    result = await registry.execute("demo.echo", {"text": "x"}, dry)
    assert result.result["executed"] is False
    assert dry.permissions.dry_run_log == [{"tool": "demo.echo", "params": {"text": "x"}}]
    with pytest.raises(PermissionDenied, match="strict mode"):
        await registry.execute(
            "demo.echo", {"text": "x"}, PermissionPolicy().context(mode="strict")
        )


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, SERVER, "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


@module_loop
async def test_streamable_http_server(http_server: str) -> None:
    config = load_config({"mcp": {"servers": {"web": {"url": http_server}}}}, discover=False)
    registry = ToolRegistry.from_config(config, builtins=False, plugins=False)
    try:
        result = await registry.execute("web.add", {"a": 20, "b": 22}, PermissionPolicy().context())
        assert result.result == {"result": 42}
        assert registry.source("web.add") == "mcp:web"
    finally:
        await registry.close()
    assert registry.mcp is not None
    assert not registry.mcp.is_running("web")


@module_loop
async def test_server_that_fails_to_start() -> None:
    manager = McpManager(
        {"bad": McpServerConfig("bad", command=sys.executable, args=["-c", "pass"])}
    )
    with pytest.raises(ToolError, match="MCP server 'bad' failed to start"):
        await manager.tools("bad")
    await manager.close()


@module_loop
async def test_server_startup_timeout() -> None:
    config = McpServerConfig(
        "sleepy",
        command=sys.executable,
        args=["-c", "import time; time.sleep(30)"],
        startup_timeout=0.2,
    )
    manager = McpManager({"sleepy": config})
    with pytest.raises(ToolError, match=r"did not start within 0.2 s"):
        await manager.tools("sleepy")
    await manager.close()


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({}, "needs exactly one of 'command' .* or 'url'"),
        ({"command": "x", "url": "http://h"}, "needs exactly one"),
        ({"command": "x", "args": "a b"}, "args' must be a list of strings"),
        ({"command": "x", "timeout": 0}, "timeout' must be a positive number"),
        ({"command": "x", "colour": "red"}, "unknown key 'mcp.servers.demo.colour'"),
    ],
)
def test_config_validation(server: dict[str, object], message: str) -> None:
    config = load_config({"mcp": {"servers": {"demo": server}}}, discover=False)
    with pytest.raises(ConfigError, match=message):
        McpManager.from_config(config)


def test_no_servers_no_manager() -> None:
    assert McpManager.from_config(load_config({}, discover=False)) is None
