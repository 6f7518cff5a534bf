"""Workflows run from scripts: run records, a checkpoint per step, and resuming with
``wf:execute(input, {resume_from = ID})`` — in process, and after the process was killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llmspell import Host
from llmspell.core.config import load_config
from llmspell.core.result import RunResult
from llmspell.state.checkpoints import CheckpointStore
from llmspell.state.runs import RunStore
from llmspell.state.store import open_store
from llmspell.tools.base import ToolContext
from llmspell.tools.callable_tool import CallableTool

ROOT = Path(__file__).resolve().parents[2]

# A workflow whose second step fails until the script is told otherwise; "count" is a Python
# tool that counts its calls, so a step that runs again is seen.
FLAKY = """
local wf = Workflow.sequential{name = "flaky", steps = {
  {name = "one", tool = "count", input = {label = "one"}},
  {name = "two", fn = function(ctx)
    if FAIL then error("not yet") end
    return ctx.outputs.one.result .. "+two"
  end},
  {name = "three", tool = "count", input = {label = "three"}},
}}
"""


class Counter:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        self.calls.append(params["label"])
        return f"{params['label']}#{len(self.calls)}"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def host(db: Path, counter: Counter) -> Host:
    host = Host(load_config({"storage": {"path": str(db)}}, environ={}))
    parameters = {"type": "object", "properties": {"label": {"type": "string"}}}
    host.services.tools.register(CallableTool("count", "counts calls", parameters, counter))
    return host


def ok(result: RunResult) -> Any:
    assert result.status == "ok", result.error
    return result.value


def test_each_execution_is_a_checkpointed_run(host: Host, db: Path) -> None:
    result = host.run(
        FLAKY
        + """
        local first = wf:execute()
        local second = wf:execute()
        local off = wf:execute(nil, {checkpoint = false})
        return {first.metadata.run_id, second.metadata.run_id, off.metadata.run_id == nil}
        """
    )
    first, second, off = ok(result)
    assert off is True
    assert first == f"{result.execution_id}/flaky"
    assert second == f"{result.execution_id}/flaky#2"
    with open_store(path=db) as store:
        runs = RunStore(store)
        record = runs.get(first)
        assert record is not None
        assert (record["kind"], record["status"], record["script"]) == (
            "workflow",
            "completed",
            "script.lua",
        )
        assert runs.get(f"{result.execution_id}/flaky#3") is None
        assert len(CheckpointStore(store).list(first)) == 3  # one per step


def test_resume_from_a_failed_run_skips_completed_steps(host: Host, counter: Counter) -> None:
    failed = ok(
        host.run(
            "FAIL = true\n"
            + FLAKY
            + "local r = wf:execute({x = 1}) return {r.success, r.metadata.run_id, r.error}"
        )
    )
    assert failed[0] is False and "not yet" in failed[2]
    assert counter.calls == ["one"]
    run_id = failed[1]
    resumed = ok(
        host.run(
            FLAKY
            + f"""
            local r = wf:execute(nil, {{resume_from = {run_id!r}}})
            return {{success = r.success, final = r.final, two = r.outputs.two,
                     resumed = r.metadata.resumed, run_id = r.metadata.run_id,
                     steps = #r.steps}}
            """
        )
    )
    assert counter.calls == ["one", "three"]  # "one" was not run again
    assert resumed["success"] is True and resumed["resumed"] is True
    assert resumed["two"] == "one#1+two"  # the output saved before the failure
    assert resumed["final"]["result"] == "three#2"
    assert resumed["run_id"] == run_id


def test_resume_from_the_script_run_id(host: Host, counter: Counter, db: Path) -> None:
    failed = host.run("FAIL = true\n" + FLAKY + "return wf:execute().success")
    assert ok(failed) is False
    value = ok(
        host.run(
            FLAKY + f"return wf:execute(nil, {{resume_from = {failed.execution_id!r}}}).success"
        )
    )
    assert value is True
    assert counter.calls == ["one", "three"]
    with open_store(path=db) as store:
        record = RunStore(store).get(f"{failed.execution_id}/flaky")
        assert record is not None and record["status"] == "completed"


def test_a_completed_run_resumes_without_running_anything(host: Host, counter: Counter) -> None:
    first = ok(host.run(FLAKY + "return wf:execute().metadata.run_id"))
    assert counter.calls == ["one", "three"]
    again = ok(
        host.run(
            FLAKY + f"local r = wf:execute(nil, {{resume_from = {first!r}}}) return r.final.result"
        )
    )
    assert again == "three#2"
    assert counter.calls == ["one", "three"]


def test_a_changed_or_corrupted_checkpoint_is_refused(host: Host, db: Path) -> None:
    run_id = ok(host.run("FAIL = true\n" + FLAKY + "return wf:execute().metadata.run_id"))
    changed = FLAKY.replace('label = "three"', 'label = "3"')
    resume = (
        "local ok, err = pcall(function() "
        f"return wf:execute(nil, {{resume_from = {run_id!r}}}) end) return err"
    )
    assert "workflow definition changed since the checkpoint" in ok(host.run(changed + resume))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE checkpoints SET payload = replace(payload, 'one', 'uno')")
    assert "is corrupted (checksum mismatch)" in ok(host.run(FLAKY + resume))


def test_cancelling_the_run_marks_the_workflow_interrupted(host: Host, db: Path) -> None:
    source = """
    local wf = Workflow.sequential{name = "slow", steps = {
      {name = "quick", fn = function() return 1 end},
      {name = "slow", fn = function() sleep(30) return 2 end},
    }}
    return wf:execute()
    """

    async def cancel_midway() -> str:
        script = host.prepare(source)
        task = asyncio.ensure_future(script.run_async())
        with open_store(path=db) as store:
            checkpoints = CheckpointStore(store)
            key = f"{script.execution_id}/slow"
            for _ in range(200):
                await asyncio.sleep(0.02)
                if checkpoints.list(key):
                    break
        script.cancel()
        await asyncio.wait_for(task, 5)
        return key

    key = asyncio.run(cancel_midway())
    with open_store(path=db) as store:
        record = RunStore(store).get(key)
        assert record is not None and record["status"] == "interrupted"
        assert len(CheckpointStore(store).list(key)) == 1


def test_an_unusable_store_runs_the_workflow_unrecorded(db: Path) -> None:
    open_store(path=db).close()
    with sqlite3.connect(db) as conn:  # a database of a newer llmspell cannot be opened
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)")
    host = Host(load_config({"storage": {"path": str(db)}}, environ={}))
    result = host.run(
        'local wf = Workflow.sequential{name = "w", steps = {{name = "a", fn = function() '
        "return 1 end}}} return wf:execute().final"
    )
    assert ok(result) == 1
    assert "warning: workflow run run_" in result.stderr
    assert "not recorded, so it cannot be resumed" in result.stderr


RESUMABLE = """
local log, tag = ARGS.log, ARGS.tag
local function mark(name)
  Tool.execute("file-operations", {operation = "append", path = log, input = name .. "\\n"})
end
local wf = Workflow.sequential{name = "killable", steps = {
  {name = "first", fn = function() mark("first") return tag end},
  {name = "slow", fn = function()
    mark("slow")
    sleep(tonumber(ARGS.nap))
    return "slow"
  end},
  {name = "last", fn = function(ctx)
    mark("last")
    return ctx.outputs.first .. "/" .. ctx.outputs.slow
  end},
}}
local r = wf:execute(nil, {resume_from = ARGS.resume})
print(r.text)
print("final=" .. tostring(r.final))
"""


def test_a_killed_run_resumes_without_repeating_completed_steps(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    log = tmp_path / "log.txt"
    script = tmp_path / "killable.lua"
    script.write_text(RESUMABLE)
    config = tmp_path / "llmspell.toml"
    config.write_text(
        f'[storage]\npath = "{db}"\n'
        f'[security]\nfile_read_roots = ["{tmp_path}"]\nfile_write_roots = ["{tmp_path}"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))

    def command(*args: str) -> list[str]:
        base = [sys.executable, "-m", "llmspell.cli.main", "--config", str(config)]
        return [*base, "run", str(script), "--", "--log", str(log), *args]

    first = subprocess.Popen(
        command("--tag", "before-kill", "--nap", "60"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run_id = _wait_for_checkpoint(db, "/killable", first)
        while "slow" not in (log.read_text() if log.exists() else ""):
            assert first.poll() is None, "the first run ended before it was killed"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert log.read_text() == "first\nslow\n"

    second = subprocess.run(
        command("--tag", "after-kill", "--nap", "0", "--resume", run_id.split("/")[0]),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0, second.stderr
    assert "Sequential workflow 'killable' completed: 3/3 steps" in second.stdout
    # "first" ran once, before the kill: its output comes from the checkpoint.
    assert "final=before-kill/slow" in second.stdout
    assert log.read_text() == "first\nslow\nslow\nlast\n"
    with open_store(path=db) as store:
        record = RunStore(store).get(run_id)
        assert record is not None and record["status"] == "completed"


def _wait_for_checkpoint(db: Path, suffix: str, process: subprocess.Popen[bytes]) -> str:
    """The id of the run ending with ``suffix`` once it has a checkpoint."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the first run ended before it was killed"
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as conn:
                    row = conn.execute(
                        "SELECT run_id FROM checkpoints WHERE run_id LIKE ? LIMIT 1",
                        (f"%{suffix}",),
                    ).fetchone()
            except sqlite3.OperationalError:
                row = None  # the schema is not there yet
            if row is not None:
                return str(row[0])
        time.sleep(0.05)
    raise AssertionError("no checkpoint was written")
