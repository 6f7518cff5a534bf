"""Every limit ends the script, whatever the script does to catch it."""

from __future__ import annotations

import time

import pytest

CPU = {"cpu_seconds": 0.3, "wall_seconds": 10}

CPU_ESCAPES = {
    "plain loop": "while true do end",
    "pcall loop": "while true do pcall(function() while true do end end) end",
    "xpcall handler loops": "xpcall(function() error('x') end, function() while true do end end)",
    "xpcall retry loop": "while true do xpcall(function() while true do end end, print) end",
    "coroutine": "local co = coroutine.create(function() while true do end end) "
    "while true do coroutine.resume(co) end",
    "coroutine.wrap": "local f = coroutine.wrap(function() while true do end end) "
    "while true do pcall(f) end",
    "__index metamethod": "local t = setmetatable({}, "
    "{__index = function() while true do end end}) "
    "while true do pcall(function() return t.x end) end",
    "__tostring metamethod": "local t = setmetatable({}, "
    "{__tostring = function() while true do end end}) "
    "while true do pcall(tostring, t) end",
    "__close": "while true do pcall(function() local x <close> = setmetatable({}, "
    "{__close = function() while true do end end}) end) end",
    "tail calls": "local function f(n) return f(n + 1) end f(1)",
    "load'ed code": "local f = load('while true do end') while true do pcall(f) end",
    "spawned task": "spawn(function() while true do end end)",
    "string.gsub callback": "while true do pcall(string.gsub, ('x'):rep(100), '.', "
    "function() while true do end end) end",
    "table.sort comparator": "local t = {} for i = 1, 100 do t[i] = i end "
    "while true do pcall(table.sort, t, function() while true do end end) end",
}


@pytest.mark.parametrize("source", CPU_ESCAPES.values(), ids=CPU_ESCAPES.keys())
def test_cpu_limit_holds(run, source):
    started = time.monotonic()
    result = run(source, limits=CPU)
    assert result.status == "error"
    assert result.error_kind == "timeout", result.error
    assert "CPU time limit" in result.error
    assert time.monotonic() - started < 5


MEMORY = {"memory_mb": 16, "cpu_seconds": 20}

MEMORY_ESCAPES = {
    "table growth": "local t = {} while true do t[#t + 1] = {} end",
    "string growth": "local s = 'x' while true do s = s .. s end",
    "pcall loop": "local keep = {} while true do pcall(function() "
    "while true do keep[#keep + 1] = ('y'):rep(1024) .. #keep end end) end",
    "coroutine": "local keep = {} local co = coroutine.create(function() "
    "while true do keep[#keep + 1] = {} end end) while true do coroutine.resume(co) end",
}


@pytest.mark.parametrize("source", MEMORY_ESCAPES.values(), ids=MEMORY_ESCAPES.keys())
def test_memory_limit_holds(run, source):
    result = run(source, limits=MEMORY)
    assert result.status == "error"
    assert result.error_kind == "memory", result.error


def test_output_limit_holds_and_truncates(run):
    result = run('while true do pcall(print, ("x"):rep(100)) end', limits={"output_bytes": 1000})
    assert result.error_kind == "output_limit"
    assert len(result.output.encode()) < 1200
    assert "output truncated" in result.output


def test_io_write_counts_towards_output_limit(run):
    result = run('for i = 1, 1000 do io.write("abcdefghij") end', limits={"output_bytes": 500})
    assert result.error_kind == "output_limit"


def test_wall_clock_limit_covers_waits(run):
    started = time.monotonic()
    result = run("while true do pcall(sleep, 1) end", limits={"wall_seconds": 0.3})
    assert result.error_kind == "timeout"
    assert "wall-clock" in result.error
    assert time.monotonic() - started < 3


def test_wall_clock_limit_in_parallel(run):
    result = run(
        "parallel({function() sleep(5) end, function() sleep(5) end})",
        limits={"wall_seconds": 0.3},
    )
    assert result.error_kind == "timeout"


def test_limit_in_spawned_task_ends_the_run(run):
    result = run(
        "spawn(function() local t = {} while true do t[#t+1] = {} end end) sleep(5)",
        limits={"memory_mb": 16, "wall_seconds": 10},
    )
    assert result.error_kind == "memory"


def test_limits_are_per_run(host):
    first = host.run("while true do end", limits={"cpu_seconds": 0.2})
    second = host.run("local s = 0 for i = 1, 1e6 do s = s + i end return s")
    assert first.error_kind == "timeout"
    assert second.value == 500000500000


def test_cancel_from_another_task():
    import asyncio

    from llmspell import Host

    host = Host()

    async def main():
        script = host.prepare("while true do pcall(sleep, 0.01) end")
        task = asyncio.create_task(script.run_async())
        await asyncio.sleep(0.1)
        script.cancel()
        return await task

    result = asyncio.run(main())
    assert result.error_kind == "cancelled"


def test_cancel_cpu_bound_script():
    import threading

    from llmspell import Host

    host = Host()
    script = host.prepare("while true do end")
    threading.Timer(0.2, script.cancel).start()
    result = host.execute(script)
    assert result.error_kind == "cancelled"
