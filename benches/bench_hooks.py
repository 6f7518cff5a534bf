"""The cost of Lua hooks on a tool call: Lua ``Tool.execute`` of a trivial tool with 1 and 10
no-op Lua hooks, each against the same calls with no hook.

Run: ``pytest benches/bench_hooks.py --benchmark-only``. One timed call is a whole run that makes
``CALLS`` tool calls, so the run's own setup (about a millisecond) is shared by both sides. Every
call goes through the run's observed path (hooks, ``tool.execution.*`` events, an audit record
in an in-memory store), so the ratio isolates what the hooks add: each no-op hook is a Lua
function run as a script task with its ``ctx`` converted to a table. Half the hooks sit before
the call and half after it (1 hook: before).
"""

from __future__ import annotations

from typing import Any

import pytest
from pairing import Pairer

from llmspell import Host
from llmspell.tools.base import ToolContext
from llmspell.tools.callable_tool import CallableTool

CALLS = 200
PARAMETERS = {"type": "object", "properties": {"n": {"type": "integer"}}}
SCRIPT = """
local points = {"BeforeToolExecution", "AfterToolExecution"}
for i = 1, HOOKS do
  Hook.register(points[(i - 1) % 2 + 1], function() end)
end
local last
for i = 1, CALLS do
  last = Tool.execute("noop", {n = i})
end
return last.result
"""


async def noop(params: dict[str, Any], ctx: ToolContext) -> Any:
    return params["n"]


def tool_calls(hooks: int) -> Any:
    """A function running the script with ``hooks`` hooks; it returns the last result."""
    host = Host({"storage": {"backend": "memory"}}, record_runs=False)
    host.services.tools.register(CallableTool("noop", "returns n", PARAMETERS, noop))
    source = SCRIPT.replace("HOOKS", str(hooks)).replace("CALLS", str(CALLS))

    def run() -> Any:
        result = host.run(source)
        if result.status != "ok":
            raise RuntimeError(f"bench script failed: {result.error}")
        return result.value

    return run


@pytest.mark.parametrize("hooks", [1, 10])
def test_tool_execute_with_lua_hooks(paired: Pairer, hooks: int) -> None:
    bare = tool_calls(0)
    hooked = tool_calls(hooks)
    assert bare() == CALLS and hooked() == CALLS
    paired(
        hooked,
        bare,
        name=f"Lua Tool.execute with {hooks} no-op Lua hook{'s' * (hooks > 1)} (per call)",
        floor_name="the same call with no hook",
        target=None,
        rounds=15,
        per=CALLS,
    )
