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

BEFORE = "BeforeToolExecution"
AFTER = "AfterToolExecution"
ERROR = "ToolError"
STARTED = "tool.execution.started"
COMPLETED = "tool.execution.completed"
FAILED = "tool.execution.failed"

RunTool = Callable[[Any], Awaitable[ToolResult]]
"""Runs the tool on (possibly hook-modified) parameters: the registry's unobserved call."""
ObservedExecute = Callable[[str, Any, ToolContext, RunTool], Awaitable[ToolResult]]
"""The type of ``observed_execute``."""

_RESULT_FIELDS = ("success", "result", "text", "operation", "message", "metadata")


async def observed_execute(
    tool: str, params: Any, ctx: ToolContext, run_tool: RunTool
) -> ToolResult:
    """Run ``run_tool`` as the call of ``tool`` with ``params``, observed as described above.

    What nobody listens to is not built: an event with no matching subscription, the result
    table when no ``AfterToolExecution`` hook is registered."""
    started = time.perf_counter()
    events = ctx.events
    if events is not None and events.wants(STARTED):
        events.publish(STARTED, _about(tool, ctx))
    ran_with: list[Any] = []
    produced: list[ToolResult] = []

    async def call(data: dict[str, Any]) -> ToolResult:
        ran_with.append(data.get("params"))
        result = await run_tool(data.get("params"))
        produced.append(result)
        return result

    try:
        value = await call_with_hooks(
            ctx.hooks,
            before=BEFORE,
            after=AFTER,
            error=ERROR,
            data={"tool": tool, "params": params},
            call=call,
            present=ToolResult.to_dict,
        )
    except Exception as exc:
        duration_ms = _elapsed(started)
        if events is not None and events.wants(FAILED):
            error = {"error_kind": _kind(exc), "error": _message(exc)}
            events.publish(FAILED, {**_about(tool, ctx), **error, "duration_ms": duration_ms})
        _audit(ctx, tool, ran_with[-1] if ran_with else params, outcome_of(exc), duration_ms)
        raise
    if produced and value is produced[-1]:  # the tool's own result, left as it was by hooks
        result = _completed(value, tool)
    else:
        result = _as_result(value, tool, skipped=not ran_with)
    duration_ms = result.metadata["duration_ms"] = _elapsed(started)
    outcome = "skipped" if not ran_with else "success" if result.success else "failure"
    if events is not None and events.wants(COMPLETED):
        events.publish(
            COMPLETED,
            {
                **_about(tool, ctx),
                "success": result.success,
                "skipped": not ran_with,
                "duration_ms": duration_ms,
            },
        )
    _audit(ctx, tool, ran_with[-1] if ran_with else params, outcome, duration_ms)
    return result


def _about(tool: str, ctx: ToolContext) -> dict[str, Any]:
    return {"tool": tool, "run_id": ctx.run_id, "depth": ctx.depth}


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
    _completed(result, tool)
    if skipped:
        result.metadata["skipped"] = True
    return result


def _completed(result: ToolResult, tool: str) -> ToolResult:
    """``result`` with ``tool`` in its metadata."""
    result.metadata.setdefault("tool", tool)
    return result


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
