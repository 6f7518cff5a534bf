"""Checkpoints: the run appends a record after each step; resuming skips completed steps."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmspell.core.errors import StateError, ValidationError
from llmspell.state.checkpoints import SNAPSHOT_FORMAT, CheckpointStore, checksum
from llmspell.state.migrations import MIGRATIONS
from llmspell.state.store import Store, open_store
from llmspell.workflows import PythonServices, workflow_from_dict
from llmspell.workflows.persistence import WorkflowRunStore
from llmspell.workflows.progress import replay


class StoreServices(PythonServices):
    """Test tools, with checkpoints in the store through ``WorkflowRunStore``."""

    def __init__(self, records: WorkflowRunStore, tools: dict[str, Any]) -> None:
        super().__init__(tools=tools)
        self.records = records

    async def checkpoint(self, run_id: str, workflow_hash: str, record: dict[str, Any]) -> None:
        await self.records.checkpoint(run_id, workflow_hash, record)

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        return await self.records.load_checkpoint(run_id, workflow_hash)


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(memory=True) as opened:
        yield opened


class Crash:
    """A function step that fails while ``armed`` and counts its calls."""

    def __init__(self) -> None:
        self.armed = True
        self.calls = 0

    def __call__(self, ctx: dict[str, Any]) -> str:
        self.calls += 1
        if self.armed:
            raise RuntimeError("power cut")
        return f"recovered {ctx['params']}"


async def test_resume_skips_completed_steps(services: PythonServices, recorder: Any) -> None:
    crash = Crash()
    wf = workflow_from_dict(
        {
            "name": "c",
            "steps": [
                {"name": "a", "tool": "upper", "input": {"text": "{{input.t}}"}},
                {"name": "b", "tool": "echo", "input": {"from_a": "{{steps.a.output.result}}"}},
                {"name": "c", "fn": crash, "input": "{{steps.b.output.result.from_a}}"},
                {"name": "d", "tool": "echo", "input": {"done": True}},
            ],
        }
    )
    first = await wf.execute({"t": "hi"}, services, run_id="run-1")
    assert first["metadata"]["failed_step"] == "c"
    saved_hash, records = services.checkpoints["run-1"]
    assert saved_hash == wf.definition_hash()
    assert [record["key"] for record in records] == ["a", "b"]  # one record per step
    payload = replay(records)
    assert payload is not None
    assert set(payload["completed"]) == {"a", "b"}
    assert payload["outputs"]["a"]["result"] == "HI"

    crash.armed = False
    second = await wf.execute(None, services, run_id="run-1", resume=True)
    assert second["success"] is True
    assert recorder.calls["upper"] == 1 and recorder.calls["echo"] == 2
    assert crash.calls == 2
    assert second["outputs"]["c"] == "recovered HI"
    assert second["metadata"]["resumed"] is True
    assert [s["name"] for s in second["steps"]] == ["a", "b", "c", "d"]


async def test_a_step_is_checkpointed_before_it_is_reported_complete(recorder: Any) -> None:
    saved_when_reported: list[int] = []

    def on_event(event: str, data: dict[str, Any]) -> None:
        if event == "workflow.step.completed":
            saved_when_reported.append(len(services.checkpoints["r"][1]))

    services = PythonServices(tools=recorder.tools(), on_event=on_event)
    wf = workflow_from_dict(
        {"name": "c", "steps": [{"name": "a", "tool": "echo"}, {"name": "b", "tool": "echo"}]}
    )
    assert (await wf.execute(None, services, run_id="r"))["success"] is True
    assert saved_when_reported == [1, 2]


async def test_resume_a_loop_at_its_position() -> None:
    seen: list[int] = []

    def body(ctx: dict[str, Any]) -> int:
        seen.append(ctx["item"])
        if ctx["item"] == 3 and len(seen) == 3:
            raise RuntimeError("crash in iteration 3")
        return int(ctx["item"]) * 10

    services = PythonServices()
    wf = workflow_from_dict(
        {
            "name": "l",
            "type": "loop",
            "collection": [1, 2, 3, 4],
            "body": [{"name": "x", "fn": body}],
        }
    )
    first = await wf.execute(None, services, run_id="loop-run")
    assert first["success"] is False and len(first["iterations"]) == 2
    second = await wf.execute(None, services, run_id="loop-run", resume=True)
    assert second["success"] is True
    assert seen == [1, 2, 3, 3, 4]
    assert [it["x"] for it in second["iterations"]] == [10, 20, 30, 40]


async def test_resume_keeps_the_chosen_branch() -> None:
    crash = Crash()
    services = PythonServices()
    wf = workflow_from_dict(
        {
            "name": "b",
            "type": "conditional",
            "branches": [
                {
                    "name": "first",
                    "condition": {"type": "shared_data_equals", "key": "go", "value": 1},
                    "steps": [{"name": "one", "fn": lambda ctx: 1}, {"name": "two", "fn": crash}],
                },
            ],
            "default": [{"name": "other", "fn": lambda ctx: "other"}],
        }
    )
    wf.set_shared_data("go", 1)
    await wf.execute(None, services, run_id="r")
    wf.set_shared_data("go", 2)
    crash.armed = False
    result = await wf.execute(None, services, run_id="r", resume=True)
    assert result["metadata"]["branch"] == "first"
    assert result["outputs"] == {"one": 1, "two": "recovered None"}


async def test_nested_workflows_resume_too(services: PythonServices, recorder: Any) -> None:
    crash = Crash()
    inner = {
        "name": "inner",
        "steps": [{"name": "i1", "tool": "echo"}, {"name": "i2", "fn": crash}],
    }
    wf = workflow_from_dict({"name": "outer", "steps": [{"name": "sub", "workflow": inner}]})
    await wf.execute(None, services, run_id="n")
    crash.armed = False
    result = await wf.execute(None, services, run_id="n", resume=True)
    assert result["success"] and recorder.calls["echo"] == 1


async def test_a_changed_definition_is_not_resumed(services: PythonServices) -> None:
    data: dict[str, Any] = {"name": "c", "steps": [{"name": "a", "tool": "echo"}]}
    await workflow_from_dict(data).execute(None, services, run_id="r")
    data["steps"].append({"name": "b", "tool": "echo"})
    with pytest.raises(StateError, match="workflow definition changed since the checkpoint"):
        await workflow_from_dict(data).execute(None, services, run_id="r", resume=True)


async def test_no_run_id_no_checkpoints(services: PythonServices) -> None:
    wf = workflow_from_dict({"name": "c", "steps": [{"name": "a", "tool": "echo"}]})
    await wf.execute(None, services)
    assert services.checkpoints == {}
    with pytest.raises(ValidationError, match="resuming a workflow run needs its run_id"):
        await wf.execute(None, services, resume=True)


async def test_resume_through_the_state_checkpoint_store(store: Store, recorder: Any) -> None:
    crash = Crash()
    wf = workflow_from_dict(
        {
            "name": "s",
            "type": "loop",
            "iterations": 2,
            "body": [
                {"name": "a", "tool": "upper", "input": {"text": "{{loop.iteration}}x"}},
                {"name": "b", "fn": crash, "input": "{{steps.a.output.result}}"},
            ],
        }
    )
    services = StoreServices(WorkflowRunStore(store), recorder.tools())
    assert (await wf.execute(None, services, run_id="run_1"))["success"] is False
    crash.armed = False
    result = await wf.execute(None, services, run_id="run_1", resume=True)
    assert result["success"] is True
    assert [it["b"] for it in result["iterations"]] == ["recovered 1X", "recovered 2X"]
    assert recorder.calls["upper"] == 2


async def test_each_step_appends_one_record_of_the_same_size(store: Store, recorder: Any) -> None:
    wf = workflow_from_dict(
        {
            "name": "long",
            "type": "loop",
            "iterations": 40,
            "body": [{"name": "a", "tool": "upper", "input": {"text": "{{loop.iteration}}"}}],
        }
    )
    records = WorkflowRunStore(store)
    services = StoreServices(records, recorder.tools())
    assert (await wf.execute(None, services, run_id="run_long"))["success"] is True
    listed = CheckpointStore(store).list("run_long")
    assert len(listed) == 40  # a record per step, which also ends its iteration
    step_sizes = [c["size"] for c in listed[1:]]  # the first record also holds the input
    assert max(step_sizes) - min(step_sizes) <= 8  # only the iteration numbers grow
    progress = await records.load_checkpoint("run_long", wf.definition_hash())
    assert progress is not None
    assert [it["a"]["result"] for it in progress["iterations"]] == [str(n) for n in range(1, 41)]


async def test_a_nested_workflow_in_a_loop_resumes(store: Store, recorder: Any) -> None:
    calls: list[int] = []

    def flaky(ctx: dict[str, Any]) -> int:
        calls.append(len(calls) + 1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return len(calls)

    inner = {
        "name": "inner",
        "steps": [{"name": "i1", "tool": "echo"}, {"name": "i2", "fn": flaky}],
    }
    wf = workflow_from_dict(
        {
            "name": "outer",
            "type": "loop",
            "iterations": 3,
            "body": [{"name": "sub", "workflow": inner}],
        }
    )
    records = WorkflowRunStore(store)
    services = StoreServices(records, recorder.tools())
    failed = await records.execute(wf, None, services, "run_n")
    assert failed["success"] is False and recorder.calls["echo"] == 2
    result = await records.execute(wf, None, services, "run_n", resume=True)
    assert result["success"] is True
    assert recorder.calls["echo"] == 3  # i1 of the second iteration did not run again
    assert [it["sub"]["final"] for it in result["iterations"]] == [1, 3, 4]
    for run_id in ("run_n", "run_n/sub#2", "run_n/sub#3"):
        record = records.runs.get(run_id)
        assert record is not None and record["status"] == "completed"


def version_6_database(path: Path, run_id: str, workflow_hash: str, snapshot: Any) -> None:
    """A database of the llmspell before incremental checkpoints, holding the whole-progress
    checkpoint of a failed run."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL)")
    for version, statements in MIGRATIONS[:6]:
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    conn.execute(
        "INSERT INTO runs (id, kind, status, created_at) VALUES (?, 'workflow', 'failed', 0)",
        (run_id,),
    )
    text = json.dumps(snapshot)
    conn.execute(
        "INSERT INTO checkpoints VALUES (?, 1, ?, ?, ?, ?, 0)",
        (
            run_id,
            SNAPSHOT_FORMAT,
            workflow_hash,
            text,
            checksum(SNAPSHOT_FORMAT, workflow_hash, text),
        ),
    )
    conn.commit()
    conn.close()


@pytest.mark.parametrize("killed_after", ["a", "b"])
async def test_a_run_checkpointed_by_an_older_llmspell_resumes(
    tmp_path: Path, recorder: Any, killed_after: str
) -> None:
    crash = Crash()
    crash.armed = False
    wf = workflow_from_dict(
        {
            "name": "s",
            "type": "loop",
            "iterations": 3,
            "body": [
                {"name": "a", "tool": "upper", "input": {"text": "{{loop.iteration}}x"}},
                {"name": "b", "fn": crash, "input": "{{steps.a.output.result}}"},
            ],
        }
    )

    def upper(text: str) -> dict[str, Any]:
        return {"success": True, "result": text, "text": text}

    def entry(name: str, iteration: int) -> dict[str, Any]:
        return {
            "name": name,
            "success": True,
            "duration_ms": 1.0,
            "attempts": 1,
            "iteration": iteration,
        }

    # A whole-progress checkpoint (format 1) saved in iteration 2, after step a, or after step b
    # but before the iteration was recorded as finished.
    second = {"a": upper("2X"), "b": "old 2X"} if killed_after == "b" else {"a": upper("2X")}
    snapshot = {
        "version": 1,
        "workflow": "s",
        "execution_id": "exec_old",
        "input": {"from": "old run"},
        "shared": {"seen": 1},
        "outputs": {"b": "old 1X", **second},
        "final": second[killed_after],
        "completed": {
            "a#1": {"success": True, "output": upper("1X")},
            "b#1": {"success": True, "output": "old 1X"},
            **{f"{name}#2": {"success": True, "output": out} for name, out in second.items()},
        },
        "steps": [entry("a", 1), entry("b", 1), *(entry(name, 2) for name in second)],
        "branch": None,
        "iterations": [{"a": upper("1X"), "b": "old 1X"}],
    }
    db = tmp_path / "old.db"
    version_6_database(db, "run_old", wf.definition_hash(), snapshot)
    with open_store(path=db) as store:
        records = WorkflowRunStore(store)
        services = StoreServices(records, recorder.tools())
        result = await records.execute(wf, None, services, "run_old", resume=True)
        assert result["success"] is True and result["metadata"]["resumed"] is True
        assert recorder.calls["upper"] == 1  # a#3
        expected = [
            {"a": upper("1X"), "b": "old 1X"},
            {"a": upper("2X"), "b": second.get("b", "recovered 2X")},
            {"a": upper("3X"), "b": "recovered 3X"},
        ]
        assert crash.calls == (1 if killed_after == "b" else 2)
        assert result["iterations"] == expected
        assert len(result["steps"]) == 6
        progress = await records.load_checkpoint("run_old", wf.definition_hash())
        assert progress is not None
        assert progress["iterations"] == expected  # the old snapshot, then the new records
        assert progress["input"] == {"from": "old run"} and progress["shared"] == {"seen": 1}
