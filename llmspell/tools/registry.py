"""The tool registry: names, lookup, and the one path every tool call goes through.

``ToolRegistry.execute`` validates the parameters against the tool's JSON schema, applies the
per-tool rule and the run mode (``strict`` asks, ``dry-run`` records side-effecting calls
instead of running them), bounds the call with the tool's timeout and fills the result's
``text`` and ``metadata``. Agents, workflows, the CLI and the Lua ``Tool`` global all call it.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import (
    ConfigError,
    LimitExceeded,
    LlmspellError,
    PermissionDenied,
    ToolError,
    ToolNotFound,
    ValidationError,
)
from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell_utils.timeouts import OperationTimeout, with_timeout

if TYPE_CHECKING:
    from llmspell.core.config import Config
    from llmspell.tools.mcp_client import McpManager
    from llmspell.tools.observed import ObservedExecute
    from llmspell.tools.schema_check import Check

_PREFIXED_ERRORS = (ToolError, PermissionDenied, ValidationError)


@dataclass
class _Entry:
    tool: Tool
    source: str
    aliases: tuple[str, ...]
    timeout: float | None
    validator: Any = None
    """The tool's ``jsonschema`` validator, built on first use."""
    fast_check: Check | None = None
    """Accepts the parameters the schema certainly allows (``schema_check``), when the schema
    is simple enough; set with ``validator``."""


class ToolRegistry:
    """Tools by name. Canonical names are kebab-case; snake_case spellings and declared aliases
    find the same tool. Tools named ``<server>.<tool>`` come from configured MCP servers, which
    start on first use."""

    def __init__(
        self,
        *,
        default_timeout: float | None = None,
        timeouts: Mapping[str, float] | None = None,
        max_depth: int | None = None,
        mcp: McpManager | None = None,
    ) -> None:
        self.default_timeout = default_timeout
        self.max_depth = max_depth
        self.mcp = mcp
        self._timeouts = {_kebab(k): float(v) for k, v in (timeouts or {}).items()}
        self._entries: dict[str, _Entry] = {}
        self._index: dict[str, str] = {}
        self.plugin_errors: list[str] = []

    @classmethod
    def from_config(
        cls, config: Config, *, builtins: bool = True, plugins: bool = True
    ) -> ToolRegistry:
        """A registry with the built-in tools (configured by ``[tools.<name>]`` tables), the
        tools of installed plugins and the configured MCP servers.

        ``[tools] timeout`` is the default per-call timeout in seconds, ``[tools.timeouts]``
        sets it per tool; ``runtime.max_tool_depth`` bounds tool calls nested in tool calls.
        """
        from llmspell.tools.mcp_client import McpManager

        settings = config.tools
        default_timeout = settings.get("timeout")
        if default_timeout is not None and not _is_seconds(default_timeout):
            raise ConfigError(f"'tools.timeout' must be a positive number, got {default_timeout!r}")
        timeouts = settings.get("timeouts", {})
        if not isinstance(timeouts, Mapping) or not all(map(_is_seconds, timeouts.values())):
            raise ConfigError("'tools.timeouts' must be a table of tool name = seconds (> 0)")
        registry = cls(
            default_timeout=default_timeout,
            timeouts=timeouts,
            max_depth=config.runtime.max_tool_depth,
            mcp=McpManager.from_config(config),
        )
        if builtins:
            from llmspell.tools.builtin import builtin_tools

            for tool in builtin_tools(config):
                registry.register(tool)
        if plugins:
            from llmspell.tools.plugins import load_tool_plugins

            loaded = load_tool_plugins()
            for tool, source in loaded.tools:
                registry.register(tool, source=source, replace=False, skip_existing=True)
            registry.plugin_errors.extend(loaded.errors)
        return registry

    # -- registration and lookup ---------------------------------------------------------------

    def register(
        self,
        tool: Tool,
        *,
        source: str = "builtin",
        aliases: Iterable[str] = (),
        timeout: float | None = None,
        replace: bool = False,
        skip_existing: bool = False,
    ) -> None:
        """Add ``tool``. A name already taken is an error unless ``replace`` (swap it) or
        ``skip_existing`` (keep the existing one, e.g. a plugin shadowing a built-in)."""
        if not isinstance(tool, Tool):
            raise ValidationError(f"register: expected a Tool, got {type(tool).__name__}")
        name = tool.name
        _check_schema(name, tool.parameters)
        keys = {name, _kebab(name), _snake(name), *aliases, *map(_kebab, aliases)}
        taken = {k: self._index[k] for k in keys if k in self._index and self._index[k] != name}
        if name in self._entries or taken:
            if skip_existing:
                return
            if not replace:
                owner = self._entries.get(name) or self._entries[next(iter(taken.values()))]
                raise ValidationError(
                    f"tool '{name}' is already registered (from {owner.source}); "
                    "pass replace=True to replace it"
                )
            for other in {name, *taken.values()}:
                self.unregister(other)
        self._entries[name] = _Entry(tool, source, tuple(aliases), timeout)
        for key in keys:
            self._index[key] = name

    def child(self) -> ToolRegistry:
        """A registry that starts with this one's tools; what is registered on it stays there
        (a script's own tools live and die with its run)."""
        other = ToolRegistry(
            default_timeout=self.default_timeout, max_depth=self.max_depth, mcp=self.mcp
        )
        other._timeouts = dict(self._timeouts)
        other._entries = dict(self._entries)
        other._index = dict(self._index)
        return other

    def unregister(self, name: str) -> bool:
        """Remove a tool; false when no such tool is registered."""
        canonical = self._index.get(name) or self._index.get(_kebab(name))
        if canonical is None:
            return False
        del self._entries[canonical]
        self._index = {k: v for k, v in self._index.items() if v != canonical}
        return True

    def find(self, name: str) -> Tool | None:
        """The tool registered as ``name`` (canonical, snake_case or alias), or ``None``."""
        entry = self._lookup(name)
        return None if entry is None else entry.tool

    def get(self, name: str) -> Tool:
        """The tool registered as ``name``; ``ToolNotFound`` otherwise."""
        tool = self.find(name)
        if tool is None:
            raise ToolNotFound(f"tool '{name}' not found")
        return tool

    def exists(self, name: str) -> bool:
        return self.find(name) is not None

    async def resolve(self, name: str) -> Tool:
        """Like ``get``, but starts the MCP server of a ``<server>.<tool>`` name first."""
        tool = self.find(name)
        if tool is not None:
            return tool
        server = name.split(".", 1)[0]
        if self.mcp is not None and "." in name and server in self.mcp.server_names:
            await self.load_mcp_server(server)
        return self.get(name)

    async def prepare(self, names: Iterable[str]) -> None:
        """Resolve every name now (starting the MCP servers they need), so ``specs`` and
        ``info`` can describe them."""
        for name in names:
            await self.resolve(name)

    async def load_mcp_server(self, server: str) -> builtins.list[str]:
        """Start an MCP server if needed and register its tools; their names."""
        if self.mcp is None:
            raise ToolNotFound(f"MCP server '{server}' is not configured ([mcp.servers])")
        names = []
        for tool in await self.mcp.tools(server):
            self.register(tool, source=f"mcp:{server}", replace=True)
            names.append(tool.name)
        return names

    async def close(self) -> None:
        """Stop the MCP servers this registry started."""
        if self.mcp is not None:
            await self.mcp.close()

    # -- descriptions --------------------------------------------------------------------------

    def names(self, category: str | None = None, tag: str | None = None) -> list[str]:
        """Canonical names, sorted, optionally only one category or tag."""
        return [
            name
            for name, entry in sorted(self._entries.items())
            if (category is None or entry.tool.category == category)
            and (tag is None or tag in entry.tool.tags)
        ]

    def list(self, category: str | None = None, tag: str | None = None) -> list[dict[str, Any]]:
        """``info`` of each tool, sorted by name, optionally only one category or tag."""
        return [self.info(name) for name in self.names(category, tag)]

    def categories(self) -> builtins.list[str]:
        return sorted({entry.tool.category for entry in self._entries.values()})

    def source(self, name: str) -> str:
        """Where the tool came from: ``builtin``, ``python``, ``lua``, ``plugin:<dist>``,
        ``mcp:<server>``..."""
        self.get(name)
        return self._entry(name).source

    def info(self, name: str) -> dict[str, Any]:
        """``{name, description, version, category, security_level, schema, source, tags,
        side_effects, aliases}``."""
        tool = self.get(name)
        entry = self._entry(name)
        return {
            "name": tool.name,
            "description": tool.description,
            "version": tool.version,
            "category": tool.category,
            "security_level": tool.security_level,
            "schema": tool.parameters,
            "source": entry.source,
            "tags": list(tool.tags),
            "side_effects": tool.side_effects,
            "aliases": list(entry.aliases),
        }

    def specs(self, names: Iterable[str] | None = None) -> builtins.list[dict[str, Any]]:
        """``{name, description, parameters}`` for each tool (all when ``names`` is None), the
        shape a model's tool list needs."""
        chosen = self.names() if names is None else list(names)
        specs = []
        for name in chosen:
            tool = self.get(name)
            specs.append(
                {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
            )
        return specs

    # -- execution -----------------------------------------------------------------------------

    def validate(self, name: str, params: Any) -> dict[str, Any]:
        """``params`` as a dict when they match the tool's schema; ``ValidationError`` naming
        the parameter otherwise."""
        self.get(name)
        return _validated(self._entry(name), params)

    async def execute(self, name: str, params: Any, ctx: ToolContext) -> ToolResult:
        """Run one tool call under the context's policy and mode, between the run's hooks,
        events and audit trail when the context carries them (``llmspell.tools.observed``)."""
        if ctx.hooks is None and ctx.events is None and ctx.audit is None:
            return await self._execute(name, params, ctx)
        tool = self.find(name)
        return await _observed()(
            name if tool is None else tool.name,
            params,
            ctx,
            lambda checked: self._execute(name, checked, ctx),
        )

    async def _execute(self, name: str, params: Any, ctx: ToolContext) -> ToolResult:
        entry = self._lookup(name)
        if entry is None:
            entry = self._entry((await self.resolve(name)).name)
        tool = entry.tool
        params = _validated(entry, params)
        if self.max_depth is not None and ctx.depth > self.max_depth:
            raise LimitExceeded(
                f"{tool.name}: tool calls are nested {ctx.depth} deep; the limit is "
                f"{self.max_depth} (runtime.max_tool_depth)",
                "runtime",
            )
        policy = ctx.permissions
        policy.check_tool_allowed(tool.name)
        started = time.perf_counter()
        if ctx.mode == "dry-run" and tool.has_side_effects(params):
            policy.record_dry_run(tool.name, params)
            return _finish(tool.name, _dry_run_result(tool.name, params), started, dry_run=True)
        await policy.approve(tool.name, tool.security_level, params, ctx.mode)
        timeout = self._timeout_for(entry, ctx)
        try:
            if timeout is None:
                result = await tool.execute(params, ctx)
            else:
                result = await with_timeout(
                    tool.execute(params, ctx), timeout, f"{tool.name}: timed out after {timeout} s"
                )
        except OperationTimeout as exc:
            raise ToolError(str(exc)) from None
        except _PREFIXED_ERRORS as exc:
            raise _prefixed(tool.name, exc) from None
        except LlmspellError:
            raise
        except Exception as exc:
            raise ToolError(f"{tool.name}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, ToolResult):
            raise ToolError(
                f"{tool.name}: execute returned {type(result).__name__}, expected a ToolResult"
            )
        return _finish(tool.name, result, started)

    def _timeout_for(self, entry: _Entry, ctx: ToolContext) -> float | None:
        configured = (
            entry.timeout or self._timeouts.get(_kebab(entry.tool.name)) or self.default_timeout
        )
        limit = ctx.timeout
        if configured is None or limit is None:
            return limit if configured is None else configured
        return min(configured, limit)

    def _lookup(self, name: str) -> _Entry | None:
        canonical = self._index.get(name) or self._index.get(_kebab(name))
        return None if canonical is None else self._entries[canonical]

    def _entry(self, name: str) -> _Entry:
        canonical = self._index.get(name) or self._index[_kebab(name)]
        return self._entries[canonical]


def _validated(entry: _Entry, params: Any) -> dict[str, Any]:
    """``params`` as a new dict when they match the tool's schema: the fast check when the
    schema has one, else ``jsonschema``'s ``is_valid``; the most relevant error (the slow walk)
    only for parameters these did not accept, raised as a ``ValidationError``."""
    name = entry.tool.name
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ValidationError(f"{name}: parameters must be a table, got {type(params).__name__}")
    checked: dict[str, Any] = dict(params)
    if entry.validator is None:
        from jsonschema import Draft202012Validator

        from llmspell.tools.schema_check import compile_check

        entry.validator = Draft202012Validator(entry.tool.parameters)
        entry.fast_check = compile_check(entry.tool.parameters)
    fast = entry.fast_check
    if fast is not None and fast(checked):
        return checked
    if fast is None and entry.validator.is_valid(checked):
        return checked
    error = _first_error(entry.validator, checked)
    if error is not None:
        raise ValidationError(f"{name}: {error}")
    return checked


@cache
def _observed() -> ObservedExecute:
    """``observed_execute``, imported on first use: listing or describing tools needs none of
    the hooks, events and audit modules (≈ 40 ms of imports)."""
    from llmspell.tools.observed import observed_execute

    return observed_execute


def _dry_run_result(name: str, params: dict[str, Any]) -> ToolResult:
    return ToolResult(
        result={"executed": False, "dry_run": True, "tool": name, "params": params},
        text=f"dry-run: {name} was not executed",
        message=f"dry-run: {name} was not executed",
    )


def _finish(name: str, result: ToolResult, started: float, *, dry_run: bool = False) -> ToolResult:
    result.metadata.setdefault("tool", name)
    result.metadata["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
    if dry_run:
        result.metadata["dry_run"] = True
    return result


def _prefixed(name: str, exc: LlmspellError) -> LlmspellError:
    """The same error, its message starting with the tool name."""
    message = str(exc)
    if not message.startswith(f"{name}:"):
        exc.args = (f"{name}: {message}", *exc.args[1:])
    return exc


def _first_error(validator: Any, params: dict[str, Any]) -> str | None:
    """The most relevant schema violation, phrased with the parameter it concerns."""
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(params))
    if error is None:
        return None
    path = _param_path(error.absolute_path)
    if error.validator == "required":
        missing = next(r for r in error.validator_value if r not in error.instance)
        where = f"{path}.{missing}" if path else missing
        return f"parameter '{where}' is required"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known)
        if extra:
            where = f"{path}.{extra[0]}" if path else extra[0]
            return f"parameter '{where}' is not expected (known: {', '.join(sorted(known))})"
    if not path:
        return f"parameters: {error.message}"
    return f"parameter '{path}': {error.message}"


def _param_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_schema(name: str, schema: Any) -> None:
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        raise ValidationError(f"tool '{name}': parameters must be a JSON schema with type 'object'")


def _is_seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _snake(name: str) -> str:
    return name.replace("-", "_")
