"""In-process hardening the corpus cannot show alone: the interruptible pattern matcher gives
Lua's results, legitimate work on big strings stays fast, and what the host keeps of a script
(errors, Lua functions, finalizers, interrupts) is bounded and inert after the run."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest
from security_kit import make_host

from llmspell.core.errors import LlmspellError

PATTERNS = Path(__file__).parents[2] / "llmspell" / "lua" / "prelude" / "patterns.lua"

HARNESS = rb"""
local engine, name, s, p, a3, a4 = ...
local f = engine and engine[name] or string[name]
local ok, res = pcall(function()
  if name == "gmatch" then
    local out, it = {}, f(s, p, a3)
    for _ = 1, 50 do
      local r = table.pack(it())
      if r[1] == nil then break end
      for j = 1, r.n do out[#out + 1] = tostring(r[j]) end
      out[#out + 1] = "|"
    end
    return table.concat(out, ",")
  end
  local r, out = table.pack(f(s, p, a3, a4)), {}
  for j = 1, r.n do out[#out + 1] = tostring(r[j]) end
  return table.concat(out, ",")
end)
if not ok then
  res = "error: " .. tostring(type(res) == "table" and res.message or res):gsub("^.-:%d+: ", "")
end
return res
"""

ATOMS = ["a", "b", ".", "%a", "%s", "%d", "[ab]", "[^a]", "[a-c]", "%%", "x", " ", "=", "%w"]
PIECES = ["(", ")", "()", "%b()", "%f[%w]", "%1"]


def _pattern(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.25:
            parts.append(rng.choice(PIECES))
        else:
            parts.append(rng.choice(ATOMS) + rng.choice(["", "", "*", "+", "-", "?"]))
    anchor = "^" if rng.random() < 0.2 else ""
    return anchor + "".join(parts) + ("$" if rng.random() < 0.2 else "")


def test_pattern_engine_matches_lua() -> None:
    """The Lua matcher and the one-attempt-at-a-time C path give exactly Lua's answers."""
    from lupa import lua54

    lua = lua54.LuaRuntime(encoding=None)
    load = lua.eval(b"function(src, n) return load(src, '=patterns')(n, function() end) end")
    harness = lua.eval(b"function(src) return load(src) end")(HARNESS)
    source = PATTERNS.read_bytes()
    in_lua = load(source, 0)
    rng = random.Random(7)
    for _ in range(700):
        p = _pattern(rng).encode()
        s = "".join(rng.choice("aabbx  =(1)9.") for _ in range(rng.randint(0, 12))).encode()
        name = rng.choice([b"find", b"match", b"gmatch", b"gsub"])
        a3: Any = rng.choice([b"<%0>", b"%1", b"", b"x%%"]) if name == b"gsub" else 1
        a4: Any = len(s) + 1 if name == b"gsub" else None
        expected = harness(None, name, s, p, a3, a4)
        assert harness(in_lua, name, s, p, a3, a4) == expected, (name, s, p)
        total, each = in_lua.cost(p, len(s), name != b"gmatch" and p.startswith(b"^"))[0:2]
        if 0 <= each < total < float("inf"):
            assert harness(load(source, each), name, s, p, a3, a4) == expected, (name, s, p)


@pytest.mark.parametrize(
    "source",
    [
        'local s = ("ab cd\\n"):rep(200000) local r, n = s:gsub("%s+", " ") return n',
        'local s = ("line\\n"):rep(200000) local n = 0 '
        'for l in s:gmatch("[^\\n]+") do n = n + 1 end return n',
        'local s = ("x"):rep(1e6) .. "needle" return s:find("needle", 1, true)',
        'local s = ("k=v, "):rep(50000) local n = 0 '
        'for k, v in s:gmatch("(%w+)=(%w+)") do n = n + 1 end return n',
        'local s = "  " .. ("word "):rep(20000) .. "  " return #s:match("^%s*(.-)%s*$")',
    ],
)
def test_legitimate_patterns_on_big_strings_are_fast(source: str) -> None:
    host = make_host("in-process", cpu_seconds=5, memory_mb=64)
    started = time.monotonic()
    result = host.run(source)
    assert result.status == "ok", result.error
    assert time.monotonic() - started < 2.5


def test_error_messages_are_capped() -> None:
    result = make_host("in-process").run('error(("e"):rep(1e6))')
    assert result.error is not None and len(result.error) < 8300
    assert "[error message truncated: 10000" in result.error


def test_lua_functions_cannot_run_after_the_run() -> None:
    host = make_host("in-process")
    script = host.prepare(
        'Tool.register({name = "late", description = "x", handler = function() return 1 end})'
    )
    assert host.execute(script).status == "ok"
    tools = script.tools  # type: ignore[attr-defined]

    async def late() -> Any:
        return await tools.registry.execute("late", {}, tools.context)

    with pytest.raises(LlmspellError, match="has ended"):
        outcome = asyncio.run(late())
        raise LlmspellError(str(outcome.error))


def test_finalizer_added_later_never_runs() -> None:
    host = make_host("in-process")
    script = host.prepare(
        'local mt = {} KEEP = setmetatable({}, mt) mt.__gc = function() print("late") end'
    )
    assert host.execute(script).status == "ok"
    script.lua.execute(b"KEEP = nil collectgarbage() collectgarbage()")
    assert "late" not in script.output.text()


def test_interrupt_in_a_host_function_cannot_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    host = make_host("in-process")

    def interrupted(**options: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(host.config, "to_dict", interrupted)
    result = host.run('pcall(Config.get, "runtime") return "swallowed"')
    assert result.error_kind == "cancelled"


def test_python_exceptions_reach_lua_as_strings() -> None:
    host = make_host("in-process")
    host.services.tools.register(_failing_tool())
    result = host.run('local ok, e = pcall(Tool.execute, "failing", {}) return {ok, type(e)}')
    assert result.value == [False, "string"]


def _failing_tool() -> Any:
    from llmspell.tools.callable_tool import CallableTool

    async def fail(params: dict[str, Any], ctx: Any) -> Any:
        raise RuntimeError("internal detail")

    return CallableTool("failing", "fails", None, fail)
