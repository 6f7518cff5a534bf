"""Each promise fails on a naive ``lupa.LuaRuntime()``: the hostile idea works there.

Every test runs the idea against a bare runtime in a child process guarded by a short timeout
(a frozen or crashed child is the expected outcome for some of them), then checks that llmspell
keeps the same promise. The corpus covers each promise in depth; these tests show that the
sandbox, not Lua, is what keeps it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from security_kit import make_host

GUARD = 1.0


def naive(code: str, timeout: float = GUARD) -> subprocess.CompletedProcess[str] | None:
    """Run ``code`` (Python using a bare lupa runtime) in a child; None when it did not finish."""
    program = "from lupa import lua54\n" + textwrap.dedent(code)
    try:
        return subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None


@pytest.fixture(scope="module")
def host():  # type: ignore[no-untyped-def]
    return make_host("in-process")


def test_1_ambient_authority(host) -> None:  # type: ignore[no-untyped-def]
    done = naive('print(lua54.LuaRuntime().eval(\'io.open("/proc/self/status"):read("l")\'))')
    assert done is not None and done.stdout.startswith("Name:")
    assert host.run('return io.open("/proc/self/status")').error_kind == "runtime"


def test_2_python_objects(host) -> None:  # type: ignore[no-untyped-def]
    done = naive("print(lua54.LuaRuntime().eval('python.eval(\"2 ** 10\")'))")
    assert done is not None and done.stdout.strip() == "1024"
    assert host.run('return python.eval("2 ** 10")').error_kind == "runtime"


def test_3_cpu_budget_in_a_coroutine(host) -> None:  # type: ignore[no-untyped-def]
    # The count hook set on the main thread does not reach coroutines.
    done = naive(
        """
        lua = lua54.LuaRuntime()
        lua.execute('''
          debug.sethook(function() error("timeout") end, "", 1000)
          local co = coroutine.create(function() while true do end end)
          coroutine.resume(co)
        ''')
        """
    )
    assert done is None
    source = "local co = coroutine.create(function() while true do end end) coroutine.resume(co)"
    assert host.run(source).error_kind == "timeout"


def test_4_c_call_invisible_to_the_hook(host) -> None:  # type: ignore[no-untyped-def]
    done = naive(
        """
        lua = lua54.LuaRuntime()
        lua.execute('''
          debug.sethook(function() error("timeout") end, "", 1000)
          return ("a"):rep(40):find(("a*"):rep(30) .. "b")
        ''')
        """
    )
    assert done is None
    assert host.run('return ("a"):rep(40):find(("a*"):rep(30) .. "b")').error_kind == "timeout"


def test_5_memory_error_caught_in_a_loop(host) -> None:  # type: ignore[no-untyped-def]
    done = naive(
        """
        lua = lua54.LuaRuntime(max_memory=16 * 1024 * 1024)
        print(lua.eval('''(function()
          for i = 1, 3 do pcall(function() local t = {} while true do t[#t + 1] = {} end end) end
          return "still running"
        end)()'''))
        """
    )
    assert done is not None and done.stdout.strip() == "still running"
    source = "for i = 1, 3 do pcall(function() local t = {} while true do t[#t+1] = {} end end) end"
    assert host.run(source).error_kind == "memory"


def test_6_memory_pressure_in_a_host_call(host) -> None:  # type: ignore[no-untyped-def]
    # An allocation failure while lupa converts a host function's result freezes the process.
    done = naive(
        """
        lua = lua54.LuaRuntime(max_memory=16 * 1024 * 1024)
        call = lua.eval('''function(f)
          local keep = {}
          while pcall(function() keep[#keep + 1] = ("z"):rep(1000) .. #keep end) do end
          return pcall(f)
        end''')
        print(call(lambda: b"y" * (8 * 1024 * 1024)))
        """
    )
    assert done is None or done.returncode != 0
    fill = (
        'local keep = {} while collectgarbage("count") < 15000 do '
        'keep[#keep + 1] = ("z"):rep(999 + #keep) end '
    )
    result = host.run(fill + 'return pcall(Tool.execute, "big_result", {n = 1, size = 12000000})')
    assert result.error_kind == "memory"


def test_7_output_unbounded(host) -> None:  # type: ignore[no-untyped-def]
    done = naive("lua54.LuaRuntime().execute('for i = 1, 20000 do print((\"x\"):rep(100)) end')")
    assert done is not None and len(done.stdout) > 1_000_000
    result = host.run('for i = 1, 20000 do print(("x"):rep(100)) end')
    assert result.error_kind == "output_limit" and len(result.output) < 5000


def test_8_binary_chunks(host) -> None:  # type: ignore[no-untyped-def]
    done = naive("print(lua54.LuaRuntime().eval('load(string.dump(function() return 42 end))()'))")
    assert done is not None and done.stdout.strip() == "42"
    assert host.run("return load(string.dump(function() return 42 end))()").status == "error"


def test_9_changes_carry_over(host) -> None:  # type: ignore[no-untyped-def]
    done = naive(
        """
        lua = lua54.LuaRuntime()
        lua.execute('getmetatable("").__index.upper = function() return "evil" end')
        print(lua.eval('("a"):upper()'))
        """
    )
    assert done is not None and done.stdout.strip() == "evil"
    host.run('string.upper = function() return "evil" end')
    assert host.run('return ("a"):upper()').value == "A"


def test_10_code_after_the_end(host) -> None:  # type: ignore[no-untyped-def]
    done = naive(
        """
        lua = lua54.LuaRuntime()
        print(lua.eval('''(function()
          KEEP = setmetatable({}, {__gc = function() print("late") end})
          return "result"
        end)()'''))
        del lua
        """
    )
    assert done is not None and done.stdout.split() == ["result", "late"]
    result = host.run('KEEP = setmetatable({}, {__gc = function() print("late") end})')
    assert result.error_kind == "sandbox_violation"


def test_11_script_ends_the_host(host) -> None:  # type: ignore[no-untyped-def]
    done = naive("lua54.LuaRuntime().execute('os.exit(7)')\nprint('host goes on')")
    assert done is not None and done.returncode == 7 and "host goes on" not in done.stdout
    assert host.run("os.exit(7)").exit_code == 7


def test_12_unbounded_host_call() -> None:
    # Tens of thousands of arguments to one Python function: seconds with the GIL held.
    done = naive(
        """
        lua = lua54.LuaRuntime()
        f = lua.eval('''function(py)
          local t = {} for i = 1, 80000 do t[i] = i end
          return py(table.unpack(t))
        end''')
        print(f(lambda *a: len(a)))
        """,
        timeout=1.0,
    )
    assert done is None
    result = make_host("in-process").run(
        "local t = {} for i = 1, 80000 do t[i] = i end "
        "return JSON.stringify(table.unpack(t, 1, 80000))"
    )
    assert result.error_kind == "runtime" and "too many arguments" in (result.error or "")


def test_13_limits_are_not_classified(host) -> None:  # type: ignore[no-untyped-def]
    # A naive limit is an ordinary error: pcall swallows it and the run "succeeds".
    done = naive(
        """
        lua = lua54.LuaRuntime()
        print(lua.eval('''(function()
          local co = coroutine.create(function()
            pcall(function() while true do end end)
            return "finished"
          end)
          debug.sethook(co, function() error("timeout") end, "", 100000)
          return select(2, coroutine.resume(co))
        end)()'''))
        """
    )
    assert done is not None and done.stdout.strip() == "finished"
    result = host.run('pcall(function() while true do end end) return "finished"')
    assert result.error_kind == "timeout"


def test_14_engine_with_compiled_loops() -> None:
    # LuaJIT's compiled loops never call count hooks: only the pinned Lua 5.4 engine may run.
    done = naive(
        """
        from lupa import luajit21
        lua = luajit21.LuaRuntime()
        lua.execute('''
          debug.sethook(function() error("timeout") end, "", 1000)
          local x = 0
          for i = 1, 1e12 do x = x + i end
        ''')
        """
    )
    assert done is None
    run = make_host("in-process").prepare("return 1")
    assert run.lua.lua_implementation == b"Lua 5.4"
