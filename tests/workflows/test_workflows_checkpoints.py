"""Checkpoints: the run saves its progress after each step; resuming skips completed steps."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import StateError, ValidationError
from llmspell.workflows import PythonServices, workflow_from_dict


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
    saved_hash, payload = services.checkpoints["run-1"]
    assert saved_hash == wf.definition_hash()
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


async def test_resume_through_the_state_checkpoint_store(recorder: Any) -> None:
    from llmspell.state.checkpoints import CheckpointStore
    from llmspell.state.store import open_store

    class StoreServices(PythonServices):
        def __init__(self, checkpoints: CheckpointStore) -> None:
            super().__init__(tools=recorder.tools())
            self.store = checkpoints

        async def checkpoint(
            self, run_id: str, workflow_hash: str, payload: dict[str, Any]
        ) -> None:
            self.store.save_checkpoint(run_id, workflow_hash, payload)

        async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
            return self.store.load_latest(run_id, workflow_hash)

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
    with open_store(memory=True) as store:
        services = StoreServices(CheckpointStore(store))
        assert (await wf.execute(None, services, run_id="run_1"))["success"] is False
        crash.armed = False
        result = await wf.execute(None, services, run_id="run_1", resume=True)
    assert result["success"] is True
    assert [it["b"] for it in result["iterations"]] == ["recovered 1X", "recovered 2X"]
    assert recorder.calls["upper"] == 2
