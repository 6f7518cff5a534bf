"""CPU hook cost: Lua code run by ``Host`` (hook, limits, sandbox) vs a bare lupa runtime.

Run: ``pytest benches/bench_cpu_hook.py --benchmark-only``. Both sides compile the same source;
the llmspell side calls it as a script task of a prepared run (CPU hook every ``HOOK_COUNT``
instructions, memory-limited allocator, sandboxed libraries), the floor calls it on a plain
``lupa.lua54.LuaRuntime()`` with no hook and no memory limit. Targets: tight loop ≤ 2.5×,
typical script ≤ 1.2×.
"""

from __future__ import annotations

import pytest
from lua_functions import ScriptFunctions
from lupa import lua54
from pairing import Pairer, Target

from llmspell import Host

TIGHT = """
function bench(n)
  local x = 0
  for i = 1, n do
    x = x + i % 7
  end
  return x
end
"""

TYPICAL = """
local function label(kind, i)
  return string.format("%s-%04d", kind, i)
end

local function record(i)
  return { id = i, name = label("item", i), tags = { "a", "b" }, score = i * 0.5 }
end

function bench(n)
  local items, names = {}, {}
  for i = 1, n do
    local r = record(i)
    table.insert(items, r)
    names[#names + 1] = r.name:upper():sub(1, 8) .. ":" .. #r.tags
  end
  local hits = 0
  for _, r in ipairs(items) do
    if r.name:find("7", 1, true) then
      hits = hits + 1
    end
  end
  local csv = table.concat(names, ",")
  return #csv + hits + #(csv:gsub("ITEM", "x"))
end
"""

CASES = {
    "tight loop": (TIGHT, 300_000, Target.ratio(2.5)),
    "typical script": (TYPICAL, 2_000, Target.ratio(1.2)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_cpu_hook(paired: Pairer, case: str) -> None:
    source, n, target = CASES[case]
    host = Host({"storage": {"backend": "memory"}}, limits={"cpu_seconds": 3600})
    fns = ScriptFunctions(host, source)
    bare = lua54.LuaRuntime()
    bare.execute(source)
    bare_bench = bare.globals().bench
    assert fns.call("bench", n) == bare_bench(n)

    paired(
        lambda: fns.call("bench", n),
        lambda: bare_bench(n),
        name=f"CPU hook: {case} via Host",
        floor_name="same Lua, bare lupa, no limits",
        target=target,
        rounds=60,
    )
