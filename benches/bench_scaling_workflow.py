"""Scaling with workflow length: sequential workflows of N trivial tool steps, run from Lua.

Run: ``pytest benches/bench_scaling_workflow.py --benchmark-only``. For N in ``STEPS``, a
sequential workflow of N steps calling a no-op tool, built once and run with ``wf:execute()``,
against a Lua loop of N direct ``Tool.execute`` calls of the same tool in the same run (the
floor of ``bench_workflow_lua.py``). Two series:
- ``no checkpoints`` (``{checkpoint = false}``): the executor alone (references, step records,
  events and hooks, the result table);
- ``checkpoint per step``: the default, a checkpoint after every step into a SQLite store file.
The plot's right panel is what a step adds to a tool call. It should not grow with N: a rise
would mean each step pays for the steps before it (as checkpoints did when each one encoded
the whole state so far).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from bench_workflow_lua import script as workflow_script
from lua_functions import ScriptFunctions
from pairing import Pairer, Plot

STEPS = (10, 100, 500, 1000)
SERIES: dict[str, dict[str, Any] | None] = {
    "no checkpoints": {"checkpoint": False},
    "checkpoint per step (SQLite file)": None,
}


def script(steps: int, db_file: Path) -> ScriptFunctions:
    """A run whose script built an ``steps``-step workflow; its store is a SQLite file."""
    return workflow_script({"backend": "sqlite", "path": str(db_file)}, steps)


def rounds_for(steps: int) -> int:
    """Fewer rounds for long workflows (a 1000-step round takes a few hundred ms)."""
    return 15 if steps <= 100 else 6 if steps <= 500 else 5


@pytest.mark.parametrize("steps", STEPS)
@pytest.mark.parametrize("series", list(SERIES))
def test_workflow_length(paired: Pairer, tmp_path: Path, series: str, steps: int) -> None:
    fns = script(steps, tmp_path / "bench.db")
    options = SERIES[series]
    lua_options = None if options is None else fns.run.converter.to_lua(options)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(fns.call_async("workflow", lua_options)) == steps
        assert loop.run_until_complete(fns.call_async("direct", steps)) == steps
        paired(
            lambda: loop.run_until_complete(fns.call_async("workflow", lua_options)),
            lambda: loop.run_until_complete(fns.call_async("direct", steps)),
            name=f"Lua {steps}-step sequential workflow, {series}",
            floor_name=f"{steps} Lua Tool.execute calls of the same tool",
            target=None,
            rounds=rounds_for(steps),
            plot=Plot("workflow-length", series, steps, "steps in the workflow"),
        )
    finally:
        loop.close()
