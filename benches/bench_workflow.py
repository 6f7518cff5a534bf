"""Per-step overhead of the workflow executor.

Two pairs, each running the same trivial work 100 times:
- a 100-step sequential workflow of tool steps served by ``PythonServices`` against 100 direct
  awaits of the same trivial async function;
- the same workflow served by the real ``ToolRegistry`` (through ``ToolRegistryServices``)
  against 100 direct ``ToolRegistry.execute`` calls of the same trivial tool.

Run: ``pytest benches/bench_workflow.py``. The per-step overhead is (workflow - direct) / 100;
``test_report_per_step_overhead`` prints it for both pairs (goal: at most 50 µs per step).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import pytest

from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry
from llmspell.workflows import PythonServices, Workflow, workflow_from_dict
from llmspell.workflows.tool_services import ToolRegistryServices

STEPS = 100


async def trivial(params: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "result": params["n"], "text": ""}


class Noop(Tool):
    name: ClassVar[str] = "noop"
    description: ClassVar[str] = "returns its input"
    category: ClassVar[str] = "utility"
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(result=params["n"], text="")


def hundred_steps() -> Workflow:
    steps = [{"name": f"s{i}", "tool": "noop", "input": {"n": i}} for i in range(STEPS)]
    return workflow_from_dict({"name": "bench", "steps": steps})


def registry_pair() -> tuple[ToolRegistry, PermissionPolicy]:
    registry = ToolRegistry()
    registry.register(Noop())
    return registry, PermissionPolicy()


def python_workflow() -> Callable[[], Awaitable[Any]]:
    wf, services = hundred_steps(), PythonServices(tools={"noop": trivial})
    return lambda: wf.execute(None, services)


def python_direct() -> Callable[[], Awaitable[Any]]:
    async def run() -> None:
        for i in range(STEPS):
            await trivial({"n": i})

    return run


def registry_workflow() -> Callable[[], Awaitable[Any]]:
    wf = hundred_steps()
    services = ToolRegistryServices(*registry_pair())
    return lambda: wf.execute(None, services)


def registry_direct() -> Callable[[], Awaitable[Any]]:
    registry, policy = registry_pair()

    async def run() -> None:
        for i in range(STEPS):
            await registry.execute("noop", {"n": i}, policy.context())

    return run


CASES = {
    "python-workflow": python_workflow,
    "python-direct": python_direct,
    "registry-workflow": registry_workflow,
    "registry-direct": registry_direct,
}


@pytest.mark.parametrize("case", list(CASES))
def test_bench(benchmark: Any, case: str) -> None:
    make = CASES[case]()
    loop = asyncio.new_event_loop()
    try:
        benchmark(lambda: loop.run_until_complete(make()))
    finally:
        loop.close()


def best_of(make: Callable[[], Awaitable[Any]], rounds: int = 100) -> float:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(make())
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            loop.run_until_complete(make())
            timings.append(time.perf_counter() - started)
        return min(timings)
    finally:
        loop.close()


def test_report_per_step_overhead() -> None:
    lines = []
    for pair in ("python", "registry"):
        workflow = best_of(CASES[f"{pair}-workflow"]())
        direct = best_of(CASES[f"{pair}-direct"]())
        overhead_us = (workflow - direct) / STEPS * 1e6
        lines.append(
            f"{pair}: workflow {workflow * 1e3:.2f} ms, direct {direct * 1e3:.2f} ms, "
            f"ratio {workflow / direct:.1f}x, overhead {overhead_us:.1f} µs per step"
        )
        assert workflow > 0 and direct > 0
    print("\n" + "\n".join(lines))
