"""Tools served by MCP servers, configured as ``[mcp.servers.<name>]``::

    [mcp.servers.files]
    command = "npx"                      # stdio: the server is a child process
    args = ["-y", "@modelcontextprotocol/server-filesystem", "/srv/data"]
    env = { LOG_LEVEL = "warn" }         # added to a minimal default environment
    timeout = 30                         # seconds per tool call (default 30)
    startup_timeout = 15                 # seconds to start and list tools (default 15)

    [mcp.servers.search]
    url = "http://127.0.0.1:8931/mcp"    # streamable HTTP

Each server's tools are registered as ``<server>.<tool>``. A server starts the first time one
of its tools is needed and stops when the registry closes. The MCP servers are chosen by whoever
writes the configuration, so their own traffic is not subject to the script's network policy;
calling their tools is subject to the per-tool rules and modes like any other tool
(``restricted``; side-effecting unless the server marks the tool read-only).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ConfigError, ToolError
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.callable_tool import CallableTool
from llmspell_utils.timeouts import OperationTimeout, with_timeout

if TYPE_CHECKING:
    from llmspell.core.config import Config

DEFAULT_CALL_TIMEOUT = 30.0
DEFAULT_STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
_KEYS = ("command", "args", "env", "cwd", "url", "timeout", "startup_timeout")


@dataclass
class McpServerConfig:
    """One ``[mcp.servers.<name>]`` table, checked."""

    name: str
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    timeout: float = DEFAULT_CALL_TIMEOUT
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT

    @classmethod
    def from_mapping(cls, name: str, data: Any) -> McpServerConfig:
        where = f"mcp.servers.{name}"
        if not isinstance(data, Mapping):
            raise ConfigError(f"'{where}' must be a table")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown key '{where}.{unknown[0]}' (known keys: {', '.join(_KEYS)})"
            )
        if ("command" in data) == ("url" in data):
            raise ConfigError(f"'{where}' needs exactly one of 'command' (stdio) or 'url' (HTTP)")
        for key in ("command", "url", "cwd"):
            if key in data and not (isinstance(data[key], str) and data[key]):
                raise ConfigError(f"'{where}.{key}' must be a non-empty string")
        args = data.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ConfigError(f"'{where}.args' must be a list of strings")
        env = data.get("env", {})
        if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
            raise ConfigError(f"'{where}.env' must be a table of strings")
        seconds = {}
        for key, default in (
            ("timeout", DEFAULT_CALL_TIMEOUT),
            ("startup_timeout", DEFAULT_STARTUP_TIMEOUT),
        ):
            value = data.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"'{where}.{key}' must be a positive number of seconds")
            seconds[key] = float(value)
        return cls(
            name=name,
            command=data.get("command"),
            args=list(args),
            env=dict(env),
            cwd=data.get("cwd"),
            url=data.get("url"),
            **seconds,
        )


class McpConnection:
    """One running MCP server. The client lives in its own task, which enters and leaves the
    MCP session (whose cancel scopes must stay in one task); calls come from any task."""

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.config.name}")
        try:
            await with_timeout(
                self._ready.wait(),
                self.config.startup_timeout,
                f"MCP server '{self.config.name}' did not start within "
                f"{self.config.startup_timeout} s",
            )
        except OperationTimeout as exc:
            await self.stop()
            raise ToolError(str(exc)) from None
        if self._error is not None:
            await self.stop()
            raise ToolError(
                f"MCP server '{self.config.name}' failed to start: {_describe(self._error)}"
            ) from None

    async def _run(self) -> None:
        from mcp import Client

        try:
            async with Client(self._target(), read_timeout_seconds=self.config.timeout) as client:
                self._client = client
                self._ready.set()
                await self._stop.wait()
        except Exception as exc:
            self._error = exc
        finally:
            self._client = None
            self._ready.set()

    def _target(self) -> Any:
        if self.config.url is not None:
            return self.config.url
        from mcp import StdioServerParameters

        return StdioServerParameters(
            command=self.config.command or "",
            args=self.config.args,
            env=self.config.env or None,
            cwd=self.config.cwd,
        )

    def _connected(self) -> Any:
        if self._client is None:
            reason = f": {_describe(self._error)}" if self._error is not None else ""
            raise ToolError(f"MCP server '{self.config.name}' is not running{reason}")
        return self._client

    async def list_tools(self) -> list[Any]:
        client = self._connected()
        tools: list[Any] = []
        cursor = None
        while True:
            page = await with_timeout(
                client.list_tools(cursor=cursor),
                self.config.startup_timeout,
                f"MCP server '{self.config.name}' did not list its tools in time",
            )
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                return tools

    async def call(self, tool: str, arguments: dict[str, Any], timeout: float | None) -> Any:
        client = self._connected()
        limit = min(timeout, self.config.timeout) if timeout else self.config.timeout
        try:
            return await with_timeout(
                client.call_tool(tool, arguments, read_timeout_seconds=limit),
                limit,
                f"MCP tool '{self.config.name}.{tool}' timed out after {limit} s",
            )
        except OperationTimeout as exc:
            raise ToolError(str(exc)) from None
        except (ToolError, asyncio.CancelledError):
            raise
        except Exception as exc:
            raise ToolError(
                f"MCP tool '{self.config.name}.{tool}' failed: {_describe(exc)}"
            ) from None

    async def stop(self) -> None:
        """Leave the session (which stops a stdio server); a server still starting is cancelled."""
        self._stop.set()
        if self._task is None:
            return
        if self._client is None:
            self._task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        self._task = None


class McpTool(CallableTool):
    """A tool of an MCP server, named ``<server>.<tool>``."""

    def __init__(self, connection: McpConnection, spec: Any) -> None:
        annotations = spec.annotations
        read_only = bool(annotations and annotations.read_only_hint)
        self._connection = connection
        self._remote_name: str = spec.name
        schema = dict(spec.input_schema or {"type": "object"})
        schema.setdefault("properties", {})
        super().__init__(
            f"{connection.config.name}.{spec.name}",
            spec.description or spec.name,
            schema,
            self._call,
            category="mcp",
            security_level="restricted",
            side_effects=not read_only,
            tags=("mcp", connection.config.name),
        )

    async def _call(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        result = await self._connection.call(self._remote_name, params, ctx.timeout)
        texts = [block.text for block in result.content if getattr(block, "type", "") == "text"]
        text = "\n".join(texts)
        if result.is_error:
            raise ToolError(f"{self.name}: {text or 'the MCP tool reported an error'}")
        structured = result.structured_content
        media = [
            {"type": block.type, "mime_type": getattr(block, "mime_type", None)}
            for block in result.content
            if getattr(block, "type", "") != "text"
        ]
        return ToolResult(
            result=structured if structured is not None else text,
            text=text,
            metadata={"mcp_server": self._connection.config.name, "content": media}
            if media
            else {"mcp_server": self._connection.config.name},
        )


class McpManager:
    """The configured MCP servers; each starts on first use and stops on ``close``."""

    def __init__(self, servers: Mapping[str, McpServerConfig]) -> None:
        self._configs = dict(servers)
        self._connections: dict[str, McpConnection] = {}
        self._tools: dict[str, list[Tool]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_config(cls, config: Config) -> McpManager | None:
        """The manager of ``config.mcp["servers"]``, or ``None`` when none is configured."""
        unknown = sorted(set(config.mcp) - {"servers"})
        if unknown:
            raise ConfigError(f"unknown key 'mcp.{unknown[0]}' (known keys: servers)")
        servers = config.mcp.get("servers", {})
        if not isinstance(servers, Mapping):
            raise ConfigError("'mcp.servers' must be a table of server tables")
        if not servers:
            return None
        return cls(
            {name: McpServerConfig.from_mapping(name, data) for name, data in servers.items()}
        )

    @property
    def server_names(self) -> list[str]:
        return sorted(self._configs)

    def is_running(self, server: str) -> bool:
        return server in self._connections

    async def tools(self, server: str) -> list[Tool]:
        """The tools of ``server``, starting it if it is not running."""
        if server not in self._configs:
            raise ToolError(f"MCP server '{server}' is not configured ([mcp.servers])")
        lock = self._locks.setdefault(server, asyncio.Lock())
        async with lock:
            if server not in self._tools:
                connection = McpConnection(self._configs[server])
                await connection.start()
                try:
                    specs = await connection.list_tools()
                except BaseException:
                    await connection.stop()
                    raise
                self._connections[server] = connection
                self._tools[server] = [McpTool(connection, spec) for spec in specs]
        return list(self._tools[server])

    async def close(self) -> None:
        """Stop every running server."""
        connections = list(self._connections.values())
        self._connections.clear()
        self._tools.clear()
        for connection in connections:
            await connection.stop()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
