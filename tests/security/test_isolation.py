"""Process isolation: the worker's confinement, faults of the worker, and the parent's loop."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from security_kit import make_host, watched

from llmspell.lua.isolation.parent import FAULT_VARIABLE
from llmspell.lua.isolation.pool import Worker
from llmspell.lua.isolation.protocol import frame


@pytest.fixture(scope="module")
def host():  # type: ignore[no-untyped-def]
    return make_host("process", wall_seconds=1)


@pytest.mark.parametrize("fault", ["exit", "crash", "hang", "exit@call", "crash@call", "hang@call"])
def test_a_failing_worker_is_killed_and_the_host_answers(
    host, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(FAULT_VARIABLE, fault)
    started = time.monotonic()
    result, gap = asyncio.run(watched(host, 'JSON.parse("[1]") sleep(5)'))
    assert result.error_kind == "killed", result.error
    assert result.error and result.error.startswith("killed: the worker")
    assert gap < 0.3
    assert time.monotonic() - started < 4


def test_host_survives_and_runs_again_after_a_fault(host, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(FAULT_VARIABLE, "crash")
    assert host.run("return 1").error_kind == "killed"
    monkeypatch.delenv(FAULT_VARIABLE)
    assert host.run("return 1").value == 1


def test_cpu_bound_script_leaves_the_parent_loop_free(host) -> None:  # type: ignore[no-untyped-def]
    result, gap = asyncio.run(watched(host, "while true do end"))
    assert result.error_kind == "timeout"
    assert gap < 0.3


def test_cancel_stops_the_worker(host) -> None:  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        script = host.prepare("while true do pcall(sleep, 0.01) end")
        task = asyncio.create_task(script.run_async())
        await asyncio.sleep(0.3)
        script.cancel()
        return await task

    assert asyncio.run(main()).error_kind == "cancelled"


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


def test_os_limits_are_set_during_the_run(host) -> None:  # type: ignore[no-untyped-def]
    async def main() -> str:
        script = host.prepare("sleep(0.5) return 1")
        task = asyncio.create_task(script.run_async())
        await asyncio.sleep(0.3)
        pid = script._worker.process.pid  # type: ignore[attr-defined]
        limits = Path(f"/proc/{pid}/limits").read_text()
        await task
        return limits

    limits = {
        line[:26].strip(): line[26:].split()[0] for line in asyncio.run(main()).splitlines()[1:]
    }
    assert limits["Max cpu time"] != "unlimited"
    assert limits["Max address space"] != "unlimited"
    assert limits["Max file size"] == "0"
    assert limits["Max processes"] == "0"


def test_secrets_stay_in_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMSPELL_TEST_TOKEN", "s3cret")
    host = make_host("process")
    host.config.security.env_allow = ["LLMSPELL_TEST_TOKEN"]
    # The variable reaches the script only through the parent's allow list ...
    assert host.run('return os.getenv("LLMSPELL_TEST_TOKEN")').value == "s3cret"
    # ... and the configuration the worker receives has no provider section, hence no key.
    run = host.prepare("return 1")
    message = run._run_message()  # type: ignore[attr-defined]
    assert "providers" not in repr(message) and "s3cret" not in repr(message)


def test_lua_functions_held_by_the_parent_run_in_the_worker(host) -> None:  # type: ignore[no-untyped-def]
    source = """
    Tool.register({name = "double", description = "x", handler = function(p)
      if p.x == 0 then error("zero is not allowed") end
      return {result = p.x * 2}
    end})
    local ok, err = pcall(Tool.execute, "double", {x = 0})
    return {Tool.execute("double", {x = 21}).result, ok, err:match("zero is not allowed") ~= nil}
    """
    assert host.run(source).value == [42, False, True]


def test_a_worker_breaking_the_protocol_is_killed() -> None:
    assert frame({"t": "ready"})[:4] == len(b'{"t":"ready"}').to_bytes(4, "big")
    host = make_host("process")
    run = host.prepare("return 1")

    async def main():  # type: ignore[no-untyped-def]
        reader = asyncio.StreamReader()
        reader.feed_data((2**31).to_bytes(4, "big"))
        reader.feed_eof()
        return await run._read(reader)  # type: ignore[attr-defined]

    with pytest.raises(Exception, match="message of"):
        asyncio.run(main())


def test_results_match_in_process() -> None:
    sources = [
        "return {1, 2, {a = JSON.null, b = {}}, JSON.array()}",
        'print("out") io.stderr:write("err") return "x"',
        "local t = {} t[1] = 1 t[3] = 3 return t",
        "error({code = 1})",
        'return ("\\255\\0binary"):rep(2)',
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
