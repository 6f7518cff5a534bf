"""Cancellation: ``WorkflowRun.cancel`` ends the run with a cancelled result; cancelling the
awaiting task cancels every running step and propagates."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from llmspell.workflows import PythonServices, WorkflowRun, workflow_from_dict


def slow_parallel() -> Any:
    return workflow_from_dict(
        {
            "name": "p",
            "type": "parallel",
            "steps": [
                {"name": f"s{i}", "tool": "sleep", "input": {"seconds": 5}} for i in range(3)
            ],
        }
    )


async def test_cancel_returns_a_cancelled_result(services: PythonServices) -> None:
    run = WorkflowRun(slow_parallel(), services)
    task = asyncio.create_task(run.execute())
    await asyncio.sleep(0.02)
    run.cancel("user pressed stop")
    started = time.perf_counter()
    result = await task
    assert time.perf_counter() - started < 0.5
    assert result["success"] is False
    assert result["metadata"]["status"] == "cancelled"
    assert result["text"] == "Parallel workflow 'p' cancelled: user pressed stop (0/3 steps)"
    assert [s["error"] for s in result["steps"]] == ["cancelled"] * 3


async def test_cancel_before_start(services: PythonServices) -> None:
    run = WorkflowRun(slow_parallel(), services)
    run.cancel()
    result = await run.execute()
    assert result["metadata"]["status"] == "cancelled" and result["steps"] == []


async def test_task_cancellation_propagates_to_every_step() -> None:
    finished: list[str] = []
    cancelled: list[str] = []

    async def wait(params: dict[str, Any]) -> dict[str, Any]:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(params["id"])
            raise
        finished.append(params["id"])
        return {"success": True}

    services = PythonServices(tools={"wait": wait})
    inner = {
        "name": "inner",
        "type": "parallel",
        "steps": [{"name": "deep", "tool": "wait", "input": {"id": "deep"}}],
    }
    wf = workflow_from_dict(
        {
            "name": "p",
            "type": "parallel",
            "steps": [
                {"name": "a", "tool": "wait", "input": {"id": "a"}},
                {"name": "nested", "workflow": inner},
            ],
        }
    )
    task = asyncio.create_task(wf.execute(None, services))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cancelled) == ["a", "deep"]
    assert finished == []
    assert wf.last_result is None
