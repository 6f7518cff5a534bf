"""Process isolation: the worker's confinement, faults of the worker, and the parent's loop."""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import signal
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from fake_worker import is_gone, was_reaped
from security_kit import MODES, make_host, watched

from llmspell import Host
from llmspell.core.result import RunResult
from llmspell.lua.isolation.parent import FAULT_VARIABLE, TESTING_VARIABLE
from llmspell.lua.isolation.pool import Worker, WorkerPool
from llmspell.lua.isolation.worker import ADDRESS_SPACE_MARGIN, CPU_MARGIN


@pytest.fixture(scope="module")
def host() -> Host:
    return make_host("process", wall_seconds=1)


@pytest.mark.parametrize("fault", ["exit", "crash", "hang", "exit@call", "crash@call", "hang@call"])
def test_a_failing_worker_is_killed_and_the_host_answers(
    host: Host, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_VARIABLE, fault)
    monkeypatch.setenv(TESTING_VARIABLE, "1")
    started = time.monotonic()
    result, gap = asyncio.run(watched(host, 'JSON.parse("[1]") sleep(5)'))
    assert result.error_kind == "killed", result.error
    assert result.error and result.error.startswith("killed: the worker")
    assert gap < 0.3
    assert time.monotonic() - started < 4


def test_host_survives_and_runs_again_after_a_fault(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_VARIABLE, "crash")
    monkeypatch.setenv(TESTING_VARIABLE, "1")
    assert host.run("return 1").error_kind == "killed"
    monkeypatch.delenv(FAULT_VARIABLE)
    assert host.run("return 1").value == 1


def test_faults_need_the_testing_flag(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAULT_VARIABLE, "crash")
    monkeypatch.delenv(TESTING_VARIABLE, raising=False)
    assert host.run("return 1").value == 1


def test_cpu_bound_script_leaves_the_parent_loop_free(host: Host) -> None:
    result, gap = asyncio.run(watched(host, "while true do end"))
    assert result.error_kind == "timeout"
    assert gap < 0.3


def test_cancel_stops_the_worker(host: Host) -> None:
    async def main() -> tuple[RunResult, float, Worker]:
        script = host.prepare("while true do pcall(sleep, 0.01) end")
        task = asyncio.create_task(script.run_async())
        await asyncio.sleep(0.3)
        worker = script._worker  # type: ignore[attr-defined]
        assert worker is not None and worker.alive
        cancelled = time.monotonic()
        script.cancel()
        return await task, time.monotonic() - cancelled, worker

    result, took, worker = asyncio.run(main())
    assert result.error_kind == "cancelled"
    assert took < 0.5
    assert was_reaped(worker) and is_gone(worker.process.pid)


def test_a_cancel_before_the_run_starts_is_kept(host: Host) -> None:
    script = host.prepare('print("started") while true do end')
    script.cancel()
    started = time.monotonic()
    result = script.run()
    assert (result.error_kind, result.output) == ("cancelled", "")
    assert time.monotonic() - started < 0.5
    assert was_reaped(script._worker)  # type: ignore[attr-defined]


def test_a_cancelled_caller_leaves_no_worker_behind(host: Host) -> None:
    script = host.prepare("sleep(5)")

    async def main() -> None:
        await asyncio.wait_for(script.run_async(), 0.3)

    with pytest.raises(TimeoutError):
        asyncio.run(main())
    worker = script._worker  # type: ignore[attr-defined]
    assert was_reaped(worker) and is_gone(worker.process.pid)


@pytest.mark.parametrize("mode", MODES)
def test_the_wall_clock_counts_from_prepare(mode: str) -> None:
    script = make_host(mode, wall_seconds=2).prepare("sleep(5)")
    script.clock.expire_within(0.05)  # as if prepared 1.95 s ago
    started = time.monotonic()
    result = script.run()
    assert result.error_kind == "timeout", result.error
    assert time.monotonic() - started < 1


def test_output_is_cut_in_the_worker() -> None:
    host = make_host("process", memory_mb=64)
    tracemalloc.start()
    try:
        result = host.run('print(string.rep("\\255", 20 * 2^20))')
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.error_kind == "output_limit", result.error
    assert len(result.output) < 4096 + 100
    assert peak < 20 << 20


def test_long_output_arrives_whole() -> None:
    # Sent in pieces of 256 KiB, never cutting a character in two.
    result = make_host("process", output_bytes=2 << 20).run('print(string.rep("é", 300000))')
    assert result.output == "é" * 300000 + "\n"


def test_json_indent_is_clamped(mode_host: Host) -> None:
    result = mode_host.run("return JSON.stringify({a = {b = 1}}, {indent = 30000000})")
    assert result.value == json.dumps({"a": {"b": 1}}, indent=16)


def test_a_worker_dies_with_the_thread_that_started_it() -> None:
    started: list[Worker] = []

    def start() -> None:
        worker = Worker.start()
        started.append(worker)
        assert worker.stdout.read(4)  # ready: its parent-death signal is set

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    worker = started[0]
    try:
        assert worker.process.wait(timeout=2) == -signal.SIGKILL
    finally:
        worker.kill()
        worker.reap()


def test_spare_workers_outlive_the_runs_that_started_them() -> None:
    pool = WorkerPool(size=1)
    used = [pool.acquire(), pool.acquire()]  # the second run starts the filler
    try:
        deadline = time.monotonic() + 5
        while not pool._idle and time.monotonic() < deadline:
            time.sleep(0.02)
        spare = pool._idle[0]
        assert spare.stdout.read(4)  # ready
        time.sleep(0.2)
        assert spare.alive
    finally:
        pool.close()
        for worker in used:
            worker.kill()
            worker.reap()


def test_worker_environment_and_descriptors() -> None:
    worker = Worker.start()
    try:
        assert worker.stdout.read(4)  # the length of "ready": the worker is up
        pid = worker.process.pid
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        names = {entry.split(b"=", 1)[0] for entry in environ if entry}
        assert names <= {b"PATH", b"MALLOC_ARENA_MAX", b"LC_CTYPE"}
        assert "LLMSPELL" not in repr(environ) and b"HOME" not in names
        fds = os.listdir(f"/proc/{pid}/fd")
        targets = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds}
        assert len(fds) <= 6
        assert all(t.startswith(("pipe:", "/dev/null", "anon_inode")) for t in targets), targets
    finally:
        worker.kill()
        worker.reap()


def test_os_limits_are_set_during_the_run() -> None:
    cpu_limit, memory_mb = 1, 16
    host = make_host("process", cpu_seconds=cpu_limit, memory_mb=memory_mb)

    async def main() -> tuple[str, float, int]:
        script = host.prepare("sleep(0.5) return 1")
        task = asyncio.create_task(script.run_async())
        await asyncio.sleep(0.3)
        pid = script._worker.process.pid  # type: ignore[attr-defined]
        limits = Path(f"/proc/{pid}/limits").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        cpu_used = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        size = int(Path(f"/proc/{pid}/statm").read_text().split()[0]) * resource.getpagesize()
        assert (await task).value == 1
        return limits, cpu_used, size

    text, cpu_used, size = asyncio.run(main())
    limits = {line[:26].strip(): line[26:].split()[:2] for line in text.splitlines()[1:]}
    soft, hard = (int(v) for v in limits["Max cpu time"])
    assert cpu_limit + CPU_MARGIN <= soft <= math.ceil(cpu_used + cpu_limit) + CPU_MARGIN
    assert hard == soft + 1
    # The address space: what the worker used once ready, plus a margin and 8x the memory limit.
    space = int(limits["Max address space"][0])
    ready = space - ADDRESS_SPACE_MARGIN - 8 * memory_mb * (1 << 20)
    assert size / 2 < ready <= size
    assert limits["Max file size"] == ["0", "0"]
    assert limits["Max core file size"] == ["0", "0"]
    assert limits["Max processes"] == ["0", "0"]


def test_secrets_stay_in_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMSPELL_TEST_TOKEN", "s3cret")
    host = make_host("process")
    host.config.security.env_allow = ["LLMSPELL_TEST_TOKEN"]

    async def main() -> tuple[Any, bytes]:
        script = host.prepare(
            'local token = os.getenv("LLMSPELL_TEST_TOKEN") sleep(0.5) return token'
        )
        task = asyncio.create_task(script.run_async())
        await asyncio.sleep(0.3)
        pid = script._worker.process.pid  # type: ignore[attr-defined]
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        return (await task).value, environ

    value, environ = asyncio.run(main())
    # The variable reaches the script only through the parent's allow list ...
    assert value == "s3cret"
    # ... never through the worker's environment (PATH and MALLOC_ARENA_MAX only).
    names = {entry.split(b"=", 1)[0] for entry in environ.split(b"\0") if entry}
    assert names == {b"PATH", b"MALLOC_ARENA_MAX"}
    assert b"s3cret" not in environ
    # The configuration the worker receives has no provider section, hence no key.
    message = host.prepare("return 1")._run_message()  # type: ignore[attr-defined]
    assert "providers" not in repr(message) and "s3cret" not in repr(message)


def test_lua_functions_held_by_the_parent_run_in_the_worker(host: Host) -> None:
    source = """
    Tool.register({name = "double", description = "x", handler = function(p)
      if p.x == 0 then error("zero is not allowed") end
      return {result = p.x * 2}
    end})
    local ok, err = pcall(Tool.execute, "double", {x = 0})
    return {Tool.execute("double", {x = 21}).result, ok, err:match("zero is not allowed") ~= nil}
    """
    assert host.run(source).value == [42, False, True]


def test_results_match_in_process() -> None:
    sources = [
        "return {1, 2, {a = JSON.null, b = {}}, JSON.array()}",
        'print("out") io.stderr:write("err") return "x"',
        "local t = {} t[1] = 1 t[3] = 3 return t",
        "error({code = 1})",
        'return ("\\255\\0binary"):rep(2)',
        'return {[5] = JSON.null, x = {[2] = "b", ["\\0k"] = {1, 2}}}',
    ]
    in_process, process = make_host("in-process"), make_host("process")
    for source in sources:
        a, b = in_process.run(source), process.run(source)
        assert (a.status, a.error_kind, a.value, a.output, a.stderr) == (
            b.status,
            b.error_kind,
            b.value,
            b.output,
            b.stderr,
        ), source
