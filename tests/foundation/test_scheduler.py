"""Scheduler yields travel through user coroutines, pcall and iterators; concurrency is real."""

from __future__ import annotations

import asyncio
import time

from llmspell import Host


def test_sleep_inside_user_coroutine(run):
    result = run(
        "local co = coroutine.create(function(a) sleep(0.01) local b = coroutine.yield(a + 1) "
        "sleep(0.01) return b * 2 end) "
        "local _, x = coroutine.resume(co, 1) local _, y = coroutine.resume(co, 10) "
        "return {x, y, coroutine.status(co)}"
    )
    assert result.value == [2, 20, "dead"]


def test_sleep_inside_pcall_and_xpcall(run):
    result = run(
        "local ok, v = pcall(function() sleep(0.01) return 'a' end) "
        "local ok2, v2 = xpcall(function() sleep(0.01) error('boom', 0) end, "
        "function(e) return 'handled ' .. e end) return {ok, v, ok2, v2}"
    )
    assert result.value == [True, "a", False, "handled boom"]


def test_sleep_inside_generic_for_iterator(run):
    result = run(
        "local function gen(n) local i = 0 return function() i = i + 1 sleep(0.001) "
        "if i <= n then return i end end end "
        "local s = 0 for v in gen(5) do s = s + v end return s"
    )
    assert result.value == 15


def test_sleep_nested_several_deep(run):
    result = run(
        "local function deep(n) if n == 0 then sleep(0.001) return 'bottom' end "
        "local co = coroutine.wrap(function() return pcall(deep, n - 1) end) "
        "local ok, v = co() return v end return deep(5)"
    )
    assert result.value == "bottom"


def test_coroutine_wrap_generator_with_waits(run):
    result = run(
        "local gen = coroutine.wrap(function() "
        "for i = 1, 3 do sleep(0.001) coroutine.yield(i) end end) "
        "return {gen(), gen(), gen()}"
    )
    assert result.value == [1, 2, 3]


def test_yield_at_top_level_is_an_error(run):
    result = run("coroutine.yield(1)")
    assert result.error_kind == "runtime"
    assert "outside a coroutine" in result.error


def test_scheduler_task_cannot_be_resumed_by_script(run):
    result = run("local co = coroutine.running() return {coroutine.resume(co)}")
    assert result.value == [False, "cannot resume a scheduler task"]


def test_running_reports_main_at_top_level(run):
    assert run("local _, main = coroutine.running() return main").value is True
    assert run("return coroutine.isyieldable()").value is False


def test_wait_inside_table_sort_is_a_clear_error(run):
    result = run(
        "local ok, e = pcall(table.sort, {3, 1, 2}, "
        "function(a, b) sleep(0) return a < b end) return e"
    )
    assert "cannot wait here" in result.value


def test_spawn_wait_returns_values(run):
    result = run(
        "local h = spawn(function(a, b) sleep(0.01) return a + b, a * b end, 3, 4) "
        "return {h:wait()}"
    )
    assert result.value == [7, 12]


def test_spawn_error_propagates_to_wait(run):
    result = run(
        "local h = spawn(function() sleep(0.01) error('boom') end) "
        "local ok, e = pcall(function() return h:wait() end) return {ok, e}"
    )
    assert result.value == [False, "script.lua:1: boom"]


def test_unobserved_spawn_error_fails_run(run):
    result = run("spawn(function() sleep(0.01) error('lost') end) return 1")
    assert result.status == "error"
    assert "lost" in result.error


def test_run_waits_for_spawned_tasks(run):
    result = run("spawn(function() sleep(0.05) print('late') end) print('early')")
    assert result.output == "early\nlate\n"


def test_parallel_returns_results_in_order(run):
    result = run(
        "return parallel({function() sleep(0.03) return 'a' end, "
        "function() sleep(0.01) return 'b' end, function() return 'c' end})"
    )
    assert result.value == ["a", "b", "c"]


def test_parallel_error_propagates(run):
    result = run(
        "local ok, e = pcall(parallel, {function() sleep(0.01) end, "
        "function() error('bad', 0) end}) return e"
    )
    assert result.value == "bad"


def test_parallel_of_20_sleeps_is_concurrent(run):
    started = time.perf_counter()
    result = run(
        "local fns = {} for i = 1, 20 do fns[i] = function() sleep(0.1) return i end end "
        "return parallel(fns)"
    )
    elapsed = time.perf_counter() - started
    assert result.value == list(range(1, 21))
    assert elapsed < 0.6, elapsed


def test_script_without_waits_does_not_start_asyncio(run, monkeypatch):
    import asyncio as asyncio_module

    def fail(*args, **kwargs):
        raise AssertionError("asyncio.run called")

    monkeypatch.setattr(asyncio_module, "run", fail)
    assert run("return 1 + 1").value == 2


def test_concurrent_runs_on_one_host():
    host = Host()

    async def main():
        started = time.perf_counter()
        results = await asyncio.gather(
            *[host.run_async(f"sleep(0.1) return {i}") for i in range(10)]
        )
        return results, time.perf_counter() - started

    results, elapsed = asyncio.run(main())
    assert [r.value for r in results] == list(range(10))
    assert len({r.execution_id for r in results}) == 10
    assert elapsed < 0.6


def test_streaming_create_with_waits(run):
    result = run(
        "local s = Streaming.create(function() "
        "for i = 1, 3 do sleep(0.001) coroutine.yield(i) end end) "
        "local first = s:next() return {first, s:isDone(), s:collect(), s:isDone()}"
    )
    assert result.value == [1, False, [2, 3], True]


def test_io_read_from_stdin(host):
    import io

    result = host.run(
        "return {io.read(), io.read('n'), io.read('a')}", stdin=io.StringIO("line one\n42\nrest\n")
    )
    assert result.value == ["line one", 42, "rest\n"]


def test_io_read_without_stdin_is_nil(run):
    assert run("return io.read() == nil").value is True


def test_spawned_task_ending_the_run_leaves_no_unretrieved_exception(run, caplog):
    import gc
    import logging

    caplog.set_level(logging.ERROR, logger="asyncio")
    result = run("spawn(function() while true do end end) sleep(5)", limits={"cpu_seconds": 0.1})
    assert result.error_kind == "timeout"
    del result
    gc.collect()
    assert "never retrieved" not in caplog.text
