"""One tool call between the run's hooks, its events and its audit trail.

``ToolRegistry.execute`` hands a call here when its ``ToolContext`` carries hooks, events or an
audit trail, so every tool call of a run is observed the same way, whoever makes it (a script's
``Tool.execute``, an agent's tool-calling loop, a workflow's tool step):

- ``BeforeToolExecution`` hooks see ``{tool, params}``; they may change ``params`` (validated
  afterwards, like the caller's), skip or replace the call, cancel it or delay it.
  ``AfterToolExecution`` hooks also see ``result`` (the result table) and may change or
  replace it. ``ToolError`` hooks see ``error`` and ``error_kind`` and may recover with a
  replacement or ask for a retry (``llmspell.events.call_with_hooks``).
- ``tool.execution.started`` then ``tool.execution.completed`` or ``tool.execution.failed``
  are published, with the tool, the run id, the nesting depth and the duration.
- one audit record per call (``tool.execute``), with the parameters the tool ran with.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from llmspell.core.errors import LlmspellError
from llmspell.events import call_with_hooks
from llmspell.state.run_audit import outcome_of
from llmspell.tools.base import ToolContext, ToolResult
from llmspell_utils.jsonutil import dumps

BEFORE = "BeforeToolExecution"
AFTER = "AfterToolExecution"
ERROR = "ToolError"

RunTool = Callable[[Any], Awaitable[ToolResult]]
"""Runs the tool on (possibly hook-modified) parameters: the registry's unobserved call."""

_RESULT_FIELDS = ("success", "result", "text", "operation", "message", "metadata")


async def observed_execute(
    tool: str, params: Any, ctx: ToolContext, run_tool: RunTool
) -> ToolResult:
    """Run ``run_tool`` as the call of ``tool`` with ``params``, observed as described above."""
    started = time.perf_counter()
    about = {"tool": tool, "run_id": ctx.run_id, "depth": ctx.depth}
    _publish(ctx, "tool.execution.started", about)
    ran_with: list[Any] = []

    async def call(data: dict[str, Any]) -> Any:
        ran_with.append(data.get("params"))
        result = await run_tool(data.get("params"))
        return result.to_dict()

    try:
        value = await call_with_hooks(
            ctx.hooks,
            before=BEFORE,
            after=AFTER,
            error=ERROR,
            data={"tool": tool, "params": params},
            call=call,
        )
    except Exception as exc:
        duration_ms = _elapsed(started)
        error = {"error_kind": _kind(exc), "error": _message(exc)}
        _publish(ctx, "tool.execution.failed", {**about, **error, "duration_ms": duration_ms})
        _audit(ctx, tool, ran_with[-1] if ran_with else params, outcome_of(exc), duration_ms)
        raise
    result = _as_result(value, tool, skipped=not ran_with)
    result.metadata["duration_ms"] = _elapsed(started)
    outcome = "skipped" if not ran_with else "success" if result.success else "failure"
    _publish(
        ctx,
        "tool.execution.completed",
        {
            **about,
            "success": result.success,
            "skipped": not ran_with,
            "duration_ms": result.metadata["duration_ms"],
        },
    )
    _audit(ctx, tool, ran_with[-1] if ran_with else params, outcome, result.metadata["duration_ms"])
    return result


def _as_result(value: Any, tool: str, *, skipped: bool) -> ToolResult:
    """A ``ToolResult`` from a result table, or from a hook's replacement value."""
    if isinstance(value, Mapping) and "success" in value and set(value) <= set(_RESULT_FIELDS):
        metadata = value.get("metadata")
        result = ToolResult(
            result=value.get("result"),
            text=value.get("text"),
            success=value.get("success") is not False,
            operation=value.get("operation"),
            message=value.get("message"),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
        )
    else:
        result = ToolResult(result=value)
        result.metadata["replaced_by_hook"] = True
    if result.text is None:
        data = result.result
        result.text = data if isinstance(data, str) else "" if data is None else _dump(data)
    result.metadata.setdefault("tool", tool)
    if skipped:
        result.metadata["skipped"] = True
    return result


def _dump(value: Any) -> str:
    try:
        return dumps(value)
    except (TypeError, ValueError):
        return str(value)


def _publish(ctx: ToolContext, type: str, data: dict[str, Any]) -> None:
    if ctx.events is not None:
        ctx.events.publish(type, data)


def _audit(ctx: ToolContext, tool: str, params: Any, outcome: str, duration_ms: float) -> None:
    if ctx.audit is not None:
        ctx.audit.record(
            "tool.execute",
            actor=f"tool:{tool}",
            outcome=outcome,
            arguments={"params": params, "depth": ctx.depth},
            duration_ms=duration_ms,
        )


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _kind(exc: Exception) -> str:
    return exc.kind if isinstance(exc, LlmspellError) else type(exc).__name__


def _message(exc: Exception) -> str:
    """``Kind: message``, as a script would see the error."""
    return exc.lua_message() if isinstance(exc, LlmspellError) else f"{_kind(exc)}: {exc}"
