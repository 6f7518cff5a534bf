"""Every Host run gets a record in the store; a cancel request from outside stops it."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from state_testkit import file_host, ok, opened

from llmspell import Host
from llmspell.core.result import RunResult
from llmspell.state.runs import RunStore, args_hash


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def host(db: Path) -> Host:
    return file_host(db)


@pytest.fixture(autouse=True)
def fast_cancel_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("llmspell.run_records.CANCEL_POLL_SECONDS", 0.05)


def record(db: Path, run_id: str) -> dict[str, Any]:
    with opened(db) as store:
        found = RunStore(store).get(run_id)
    assert found is not None, f"no record for {run_id}"
    return found


def wait_until_running(db: Path) -> str:
    """The id of the one running run of ``db``, once there is one."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with opened(db) as store:
            running = RunStore(store).list(status="running")
        if running:
            return str(running[0]["id"])
        time.sleep(0.02)
    raise AssertionError("no run started")


def test_ok_run_is_completed(host: Host, db: Path) -> None:
    result = host.run("return 1", args=["a", "b"])
    found = record(db, result.execution_id)
    assert found["status"] == "completed"
    assert found["kind"] == "embedded" and found["script"] == "script.lua"
    assert found["args_hash"] == args_hash(["a", "b"])
    assert found["error"] is None and found["error_kind"] is None
    assert found["ended_at"] >= found["started_at"] >= found["created_at"]
    assert (found["input_tokens"], found["output_tokens"], found["cost_usd"]) == (0, 0, 0)
    assert found["cancel_requested"] is False


def test_script_file_and_exec_kinds(host: Host, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "job.lua"
    path.write_text("return 1")
    from_file = host.run(str(path))
    assert record(db, from_file.execution_id)["kind"] == "script"
    assert record(db, from_file.execution_id)["script"] == str(path)
    assert record(db, from_file.execution_id)["args_hash"] is None
    executed = host.run("return 1", name="exec", run_kind="exec")
    assert record(db, executed.execution_id)["kind"] == "exec"


@pytest.mark.parametrize(
    ("source", "kind", "error"),
    [
        ("error('boom')", "runtime", "script.lua:1: boom"),
        ("os.exit(3)", "runtime", "script.lua: script exited with status 3"),
        ("while true do end", "timeout", "timeout: CPU time limit"),
    ],
)
def test_failed_runs(db: Path, source: str, kind: str, error: str) -> None:
    host = Host(file_host(db).config, limits={"cpu_seconds": 0.2})
    result = host.run(source)
    found = record(db, result.execution_id)
    assert found["status"] == "failed"
    assert found["error_kind"] == kind == result.error_kind
    assert error in found["error"]


def test_exit_zero_is_completed(host: Host, db: Path) -> None:
    result = host.run("os.exit(0)")
    assert record(db, result.execution_id)["status"] == "completed"


def run_in_thread(host: Host, source: str) -> tuple[threading.Thread, list[RunResult]]:
    results: list[RunResult] = []
    thread = threading.Thread(target=lambda: results.append(host.run(source)))
    thread.start()
    return thread, results


@pytest.mark.parametrize(
    "source",
    ["sleep(30)", "local x = 0 while true do x = x + 1 end"],
    ids=["waiting", "computing"],
)
def test_cancel_request_from_the_store_stops_the_run(host: Host, db: Path, source: str) -> None:
    thread, results = run_in_thread(host, source)
    run_id = wait_until_running(db)
    with opened(db) as store:
        RunStore(store).request_cancel(run_id)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert results[0].error_kind == "cancelled" and results[0].execution_id == run_id
    found = record(db, run_id)
    assert found["status"] == "cancelled" and found["error_kind"] == "cancelled"


def test_host_cancel_and_interrupt(host: Host, db: Path) -> None:
    script = host.prepare("sleep(30)")
    thread = threading.Thread(target=host.execute, args=(script,))
    thread.start()
    wait_until_running(db)
    script.cancel("interrupted")
    thread.join(timeout=10)
    assert record(db, script.execution_id)["status"] == "interrupted"

    thread, _ = run_in_thread(host, "sleep(30)")
    run_id = wait_until_running(db)
    assert host.cancel(run_id)
    thread.join(timeout=10)
    assert record(db, run_id)["status"] == "cancelled"


async def test_run_async_is_recorded_and_cancellable(host: Host, db: Path) -> None:
    result = await host.run_async("sleep(0.01) return 2")
    assert ok(result) == 2
    assert record(db, result.execution_id)["status"] == "completed"

    task = asyncio.ensure_future(host.run_async("sleep(30)"))
    run_id = await asyncio.to_thread(wait_until_running, db)
    with opened(db) as store:
        RunStore(store).request_cancel(run_id)
    cancelled = await asyncio.wait_for(task, 10)
    assert cancelled.error_kind == "cancelled"
    assert record(db, run_id)["status"] == "cancelled"

    task = asyncio.ensure_future(host.run_async("sleep(30)"))
    run_id = await asyncio.to_thread(wait_until_running, db)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert record(db, run_id)["status"] == "cancelled"


def test_runs_can_go_unrecorded(db: Path) -> None:
    host = Host(file_host(db).config, record_runs=False)
    result = host.run("return State.get('x')")
    assert result.ok
    with opened(db) as store:
        assert RunStore(store).list() == []


def test_an_unusable_store_does_not_stop_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    host = file_host(blocker / "llmspell.db")
    result = host.run("print('still runs')")
    assert result.ok and result.output == "still runs\n"
    assert result.stderr.startswith("warning: run not recorded: cannot create the folder")


def test_token_totals_of_the_run_are_recorded(db: Path) -> None:
    provider = {"provider_type": "scripted", "options": {"echo": True}}
    host = file_host(db, default_provider="s", providers={"s": provider})
    result = host.run('local a = Agent.create{name = "a"} return a:execute("hello there").text')
    assert ok(result) == "hello there"
    found = record(db, result.execution_id)
    assert found["input_tokens"] == result.metrics["input_tokens"] > 0
    assert found["output_tokens"] == result.metrics["output_tokens"] > 0
