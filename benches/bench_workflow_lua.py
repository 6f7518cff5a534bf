"""Per-step overhead of a workflow run from Lua.

A 100-step sequential workflow of trivial tool steps, built once and executed from Lua with
``wf:execute()``, against a Lua loop of 100 direct ``Tool.execute`` calls of the same tool in
the same run. The difference divided by 100 is what a workflow step adds to a tool call
(references, step records, events and hooks, the result table). Goal: ≤ 50 µs per step.

Two workflow measures: without checkpoints (``{checkpoint = false}``), which isolates the
executor, and with the default checkpoint after every step into a SQLite store file (WAL,
``synchronous=NORMAL``), which is what a script gets by default.

Run: ``pytest benches/bench_workflow_lua.py --benchmark-only``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lua_functions import ScriptFunctions
from pairing import Pairer, Target

from llmspell import Host
from llmspell.tools.base import ToolContext
from llmspell.tools.callable_tool import CallableTool

STEPS = 100
PARAMETERS = {"type": "object", "properties": {"n": {"type": "integer"}}}
WORKFLOW_LUA = """
local steps = {}
for i = 1, STEPS do
  steps[i] = {name = "s" .. i, tool = "noop", input = {n = i}}
end
local wf = Workflow.sequential{name = "bench", steps = steps}

function workflow(options)
  local result = wf:execute(nil, options)
  assert(result.success, result.error)
  return result.final.result
end

function direct(n)
  local last
  for i = 1, n do
    last = Tool.execute("noop", {n = i})
  end
  return last.result
end
"""
"""A script with ``workflow(options)`` (a STEPS-step workflow) and ``direct(n)``."""


async def noop(params: dict[str, Any], ctx: ToolContext) -> Any:
    return params["n"]


def script(storage: dict[str, Any], steps: int = STEPS) -> ScriptFunctions:
    """A run whose script built a ``steps``-step workflow of ``noop`` calls."""
    host = Host({"storage": storage})
    host.services.tools.register(CallableTool("noop", "returns n", PARAMETERS, noop))
    return ScriptFunctions(host, WORKFLOW_LUA.replace("STEPS", str(steps)))


def measure(
    paired: Pairer, fns: ScriptFunctions, options: dict[str, Any] | None, name: str
) -> None:
    loop = asyncio.new_event_loop()
    lua_options = None if options is None else fns.run.converter.to_lua(options)
    try:
        assert loop.run_until_complete(fns.call_async("workflow", lua_options)) == STEPS
        assert loop.run_until_complete(fns.call_async("direct", STEPS)) == STEPS
        paired(
            lambda: loop.run_until_complete(fns.call_async("workflow", lua_options)),
            lambda: loop.run_until_complete(fns.call_async("direct", STEPS)),
            name=name,
            floor_name=f"{STEPS} Lua Tool.execute calls of the same tool",
            target=Target.overhead(50e-6, STEPS, "step"),
            rounds=30,
        )
    finally:
        loop.close()


def test_workflow_steps_without_checkpoints(paired: Pairer) -> None:
    measure(
        paired,
        script({"backend": "memory"}),
        {"checkpoint": False},
        f"Lua {STEPS}-step sequential workflow, no checkpoints",
    )


def test_workflow_steps_with_checkpoints(paired: Pairer, tmp_path: Path) -> None:
    measure(
        paired,
        script({"backend": "sqlite", "path": str(tmp_path / "bench.db")}),
        None,
        f"Lua {STEPS}-step sequential workflow, checkpoint per step (SQLite file)",
    )
