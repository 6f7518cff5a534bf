"""Per-step overhead of the workflow executor.

Two pairs, each running the same trivial work 100 times:
- a 100-step sequential workflow of tool steps served by ``PythonServices`` against 100 direct
  awaits of the same trivial async function;
- the same workflow served by the real ``ToolRegistry`` (through ``ToolRegistryServices``)
  against 100 direct ``ToolRegistry.execute`` calls of the same trivial tool.

Run: ``pytest benches/bench_workflow.py --benchmark-only``. The per-step overhead is
(workflow - direct) / 100 (target: at most 50 µs per step).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import pytest
from pairing import Pairer, Target

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


PAIRS = {
    "python": (python_workflow, python_direct, "100 direct awaits of the same function"),
    "registry": (registry_workflow, registry_direct, "100 direct ToolRegistry.execute"),
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_workflow_step_overhead(paired: Pairer, pair: str) -> None:
    make_workflow, make_direct, floor_name = PAIRS[pair]
    workflow, direct = make_workflow(), make_direct()
    loop = asyncio.new_event_loop()
    try:
        paired(
            lambda: loop.run_until_complete(workflow()),
            lambda: loop.run_until_complete(direct()),
            name=f"workflow of {STEPS} trivial tool steps, Python API ({pair} services)",
            floor_name=floor_name,
            target=Target.overhead(50e-6, STEPS, "step"),
            rounds=60,
        )
    finally:
        loop.close()
