"""Parallel workflows: real concurrency, the max_concurrency bound, fail_fast cancelling
siblings, continue, and branches of sequential steps."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from llmspell.workflows import PythonServices, workflow_from_dict


def sleepers(count: int, seconds: float) -> list[dict[str, Any]]:
    return [
        {"name": f"s{i}", "tool": "sleep", "input": {"seconds": seconds, "value": i}}
        for i in range(count)
    ]


async def test_ten_steps_of_a_tenth_of_a_second_take_about_a_tenth(
    services: PythonServices,
) -> None:
    wf = workflow_from_dict({"name": "p", "type": "parallel", "steps": sleepers(10, 0.1)})
    started = time.perf_counter()
    result = await wf.execute(None, services)
    elapsed = time.perf_counter() - started
    assert result["text"] == "Parallel workflow 'p' completed: 10/10 steps"
    assert 0.1 <= elapsed < 0.4
    assert [result["outputs"][f"s{i}"]["result"] for i in range(10)] == list(range(10))
    assert result["final"]["result"] == 9


async def test_max_concurrency_bounds_steps_in_flight() -> None:
    running = 0
    peak = 0

    async def probe(params: dict[str, Any]) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        return 1

    services = PythonServices(tools={"probe": probe})
    steps = [{"name": f"p{i}", "tool": "probe"} for i in range(8)]
    wf = workflow_from_dict({"name": "p", "type": "parallel", "max_concurrency": 3, "steps": steps})
    started = time.perf_counter()
    result = await wf.execute(None, services)
    assert result["success"] and result["metadata"]["successful_steps"] == 8
    assert peak == 3
    assert time.perf_counter() - started >= 0.06


async def test_fail_fast_cancels_the_siblings(services: PythonServices, recorder: Any) -> None:
    steps = [*sleepers(3, 5.0), {"name": "bad", "tool": "fail", "input": {"message": "early"}}]
    wf = workflow_from_dict({"name": "p", "type": "parallel", "steps": steps})
    started = time.perf_counter()
    result = await wf.execute(None, services)
    assert time.perf_counter() - started < 1.0
    assert result["success"] is False
    assert result["metadata"]["failed_step"] == "bad"
    assert result["text"].startswith("Parallel workflow 'p' failed at step 'bad': ToolError: early")
    cancelled = {s["name"] for s in result["steps"] if s.get("error") == "cancelled"}
    assert cancelled == {"s0", "s1", "s2"}
    assert not any(name in result["outputs"] for name in ("s0", "s1", "s2"))


async def test_continue_lets_the_others_finish(services: PythonServices) -> None:
    steps = [*sleepers(3, 0.02), {"name": "bad", "tool": "fail"}]
    wf = workflow_from_dict(
        {"name": "p", "type": "parallel", "error_strategy": "continue", "steps": steps}
    )
    result = await wf.execute(None, services)
    assert result["success"] is True
    assert result["text"] == "Parallel workflow 'p' completed: 3/4 steps (1 failed)"
    assert result["metadata"]["failed_steps"] == 1


async def test_branches_run_their_steps_in_order_and_concurrently() -> None:
    log: list[str] = []

    def step(name: str, delay: float) -> dict[str, Any]:
        async def fn(ctx: dict[str, Any]) -> str:
            await asyncio.sleep(delay)
            log.append(name)
            return name

        return {"name": name, "fn": fn}

    wf = workflow_from_dict(
        {
            "name": "b",
            "type": "parallel",
            "branches": [
                {"name": "left", "steps": [step("l1", 0.05), step("l2", 0.05)]},
                {
                    "name": "right",
                    "steps": [
                        step("r1", 0.01),
                        {
                            "name": "r2",
                            "fn": lambda ctx: ctx["params"],
                            "input": "{{steps.r1.output}}!",
                        },
                    ],
                },
            ],
        }
    )
    started = time.perf_counter()
    result = await wf.execute()
    assert time.perf_counter() - started < 0.2
    assert log.index("l1") < log.index("l2")
    assert log.index("r1") < log.index("l1")
    assert result["outputs"]["r2"] == "r1!"
    assert result["final"] == "r1!"
