"""Lua ``Tool.execute`` of a trivial tool vs a raw lupa table→dict→handler→table round trip.

Run: ``pytest benches/bench_tool.py --benchmark-only``. The llmspell side registers a no-op tool
in the Host's registry and calls it from Lua ``CALLS`` times per round (scheduler yield, argument
conversion, schema validation, permissions, result conversion). The floor is a bare
``lupa.lua54.LuaRuntime()`` whose Lua loop calls a Python function that turns the table into a
dict, calls a handler and returns a result table of the same shape. Target: ≤ 3× per call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lua_functions import ScriptFunctions
from lupa import lua54
from pairing import Pairer, Target

from llmspell import Host
from llmspell.tools.base import ToolContext
from llmspell.tools.callable_tool import CallableTool

CALLS = 200
PARAMETERS = {"type": "object", "properties": {"n": {"type": "integer"}}}
LUA_LOOP = """
function bench(n)
  local last
  for i = 1, n do
    last = {call}("noop", {{n = i}})
  end
  return last.result
end
"""


async def noop(params: dict[str, Any], ctx: ToolContext) -> Any:
    return params["n"]


def llmspell_tool_calls() -> ScriptFunctions:
    host = Host({"storage": {"backend": "memory"}})
    host.services.tools.register(CallableTool("noop", "returns n", PARAMETERS, noop))
    return ScriptFunctions(host, LUA_LOOP.format(call="Tool.execute"))


def raw_round_trip() -> Any:
    """The floor: what any lupa binding must do to call a Python handler with a table."""
    lua = lua54.LuaRuntime()

    def handler(params: dict[str, Any]) -> Any:
        return params["n"]

    def call(name: str, table: Any) -> Any:
        params = dict(table.items())
        value = handler(params)
        reply = {
            "success": True,
            "result": value,
            "text": str(value),
            "metadata": {"tool": name, "duration_ms": 0.0},
        }
        return lua.table_from(reply, recursive=True)

    lua.globals().raw_call = call
    lua.execute(LUA_LOOP.format(call="raw_call"))
    return lua.globals().bench


def test_tool_execute(paired: Pairer) -> None:
    fns = llmspell_tool_calls()
    floor = raw_round_trip()
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(fns.call_async("bench", CALLS)) == CALLS
        assert floor(CALLS) == CALLS
        paired(
            lambda: loop.run_until_complete(fns.call_async("bench", CALLS)),
            lambda: floor(CALLS),
            name="Lua Tool.execute of a trivial tool (per call)",
            floor_name="raw lupa table→dict→handler→table",
            target=Target.ratio(3.0),
            rounds=40,
            per=CALLS,
        )
    finally:
        loop.close()
