"""Error strategies (per workflow and per step), step timeouts and the workflow timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from llmspell.workflows import PythonServices, WorkflowBuilder, workflow_from_dict


def flaky(failures: int) -> tuple[Any, list[float]]:
    """A function failing ``failures`` times, then returning the attempt count."""
    times: list[float] = []

    def fn(ctx: dict[str, Any]) -> int:
        times.append(time.perf_counter())
        if len(times) <= failures:
            raise RuntimeError(f"failure {len(times)}")
        return len(times)

    return fn, times


async def test_fail_fast_stops_at_the_first_failure(
    services: PythonServices, recorder: Any
) -> None:
    wf = workflow_from_dict(
        {
            "name": "f",
            "steps": [
                {"name": "a", "tool": "echo"},
                {"name": "b", "tool": "fail"},
                {"name": "c", "tool": "echo"},
            ],
        }
    )
    result = await wf.execute(None, services)
    assert result["success"] is False
    assert result["error"] == "ToolError: boom"
    assert (
        result["text"] == "Sequential workflow 'f' failed at step 'b': ToolError: boom (1/2 steps)"
    )
    assert recorder.calls["echo"] == 1
    assert result["metadata"]["failed_steps"] == 1 and result["metadata"]["total_steps"] == 2


async def test_continue_runs_every_step(services: PythonServices, recorder: Any) -> None:
    wf = workflow_from_dict(
        {
            "name": "c",
            "error_strategy": "continue",
            "steps": [
                {"name": "a", "tool": "fail"},
                {"name": "b", "tool": "echo", "input": {"v": 1}},
            ],
        }
    )
    result = await wf.execute(None, services)
    assert result["success"] is True
    assert result["text"] == "Sequential workflow 'c' completed: 1/2 steps (1 failed)"
    assert result["steps"][0] == {
        **result["steps"][0],
        "success": False,
        "error": "ToolError: boom",
    }
    assert result["final"]["result"] == {"v": 1}


async def test_retry_with_backoff_and_multiplier() -> None:
    fn, times = flaky(2)
    wf = (
        WorkflowBuilder()
        .name("r")
        .retry(max_attempts=3, backoff_ms=20, multiplier=3)
        .add_step({"name": "s", "fn": fn})
        .build()
    )
    result = await wf.execute()
    assert result["success"] and result["final"] == 3
    assert result["steps"][0]["attempts"] == 3
    assert times[1] - times[0] >= 0.018
    assert times[2] - times[1] >= 0.055


async def test_retry_gives_up_after_max_attempts() -> None:
    fn, times = flaky(5)
    wf = workflow_from_dict(
        {
            "name": "r",
            "error_strategy": {"retry": {"max_attempts": 2, "backoff_ms": 1}},
            "steps": [{"name": "s", "fn": fn}],
        }
    )
    result = await wf.execute()
    assert result["success"] is False
    assert result["steps"][0]["attempts"] == 2
    assert result["error"] == "RuntimeError: failure 2"
    assert len(times) == 2


async def test_retry_does_not_repeat_validation_errors() -> None:
    wf = workflow_from_dict(
        {
            "name": "r",
            "error_strategy": "retry",
            "steps": [{"name": "s", "fn": lambda ctx: ctx, "input": "{{input.missing}}"}],
        }
    )
    result = await wf.execute({})
    assert result["steps"][0]["attempts"] == 0
    assert result["error"].startswith("ValidationError: step 's': unknown reference")


async def test_step_strategy_overrides_the_workflow() -> None:
    fn, _ = flaky(1)
    wf = workflow_from_dict(
        {
            "name": "o",
            "error_strategy": "fail_fast",
            "steps": [
                {"name": "tolerated", "fn": lambda ctx: 1 / 0, "error_strategy": "continue"},
                {
                    "name": "retried",
                    "fn": fn,
                    "error_strategy": {"type": "retry", "max_attempts": 2, "backoff_ms": 0},
                },
                {"name": "after", "fn": lambda ctx: "done"},
            ],
        }
    )
    result = await wf.execute()
    assert result["success"] is True
    assert result["outputs"] == {"retried": 2, "after": "done"}
    assert result["steps"][1]["attempts"] == 2


async def test_step_timeout(services: PythonServices) -> None:
    wf = workflow_from_dict(
        {
            "name": "t",
            "steps": [{"name": "slow", "tool": "sleep", "input": {"seconds": 5}, "timeout": 0.05}],
        }
    )
    started = time.perf_counter()
    result = await wf.execute(None, services)
    assert time.perf_counter() - started < 1
    assert result["error"] == "Timeout: step 'slow' timed out after 0.05s"


async def test_timeouts_are_retried() -> None:
    calls = 0

    async def slow_once(ctx: dict[str, Any]) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(5)
        return "second try"

    wf = workflow_from_dict(
        {
            "name": "t",
            "error_strategy": "retry",
            "retry": {"backoff_ms": 0},
            "steps": [{"name": "s", "fn": slow_once, "timeout": 0.05}],
        }
    )
    result = await wf.execute()
    assert result["final"] == "second try" and result["steps"][0]["attempts"] == 2


async def test_workflow_timeout(services: PythonServices) -> None:
    wf = workflow_from_dict(
        {
            "name": "w",
            "timeout": 0.1,
            "steps": [
                {"name": "quick", "tool": "echo"},
                {"name": "slow", "tool": "sleep", "input": {"seconds": 5}},
            ],
        }
    )
    started = time.perf_counter()
    result = await wf.execute(None, services)
    assert time.perf_counter() - started < 1
    assert result["success"] is False
    assert result["metadata"]["status"] == "timed_out"
    assert result["text"] == "Sequential workflow 'w' timed out after 0.1s (1/2 steps)"
    assert result["error"] == "workflow 'w' timed out after 0.1s"
    assert result["steps"][1] == {**result["steps"][1], "name": "slow", "error": "cancelled"}
