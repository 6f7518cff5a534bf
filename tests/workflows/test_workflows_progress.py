"""Checkpoint records: replaying them gives back the run's progress at every step."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmspell.core.errors import StateError
from llmspell.workflows import PythonServices, workflow_from_dict
from llmspell.workflows.executor import WorkflowRun
from llmspell.workflows.payloads import encode_value
from llmspell.workflows.progress import replay


class Checking(PythonServices):
    """Compares, at every checkpoint, the records replayed after a trip through JSON with the
    live run's progress."""

    def __init__(self) -> None:
        super().__init__(tools={"echo": lambda params: params})
        self.run: WorkflowRun | None = None
        self.saved: list[dict[str, Any]] = []
        self.compared = 0

    async def checkpoint(self, run_id: str, workflow_hash: str, record: dict[str, Any]) -> None:
        self.saved.append(json.loads(encode_value(record)))
        assert self.run is not None
        run = self.run
        live = {
            "input": run.input,
            "shared": run.shared,
            "outputs": run.outputs,
            "final": run.final,
            "completed": run.completed,
            "steps": run.records,
            "branch": run.branch,
            "iterations": run.iterations,
            "loop_broken": run.loop_broken,
        }
        assert replay(self.saved) == json.loads(json.dumps(live))
        self.compared += 1


def count(ctx: dict[str, Any]) -> int:
    ctx["shared"]["n"] = ctx["shared"].get("n", 0) + 1
    return int(ctx["shared"]["n"])


def fail(ctx: dict[str, Any]) -> None:
    raise RuntimeError("skipped")


LOOP = {
    "name": "loop",
    "type": "loop",
    "iterations": 4,
    "body": [
        {"name": "a", "tool": "echo", "input": {"i": "{{loop.iteration}}"}},
        {"name": "d", "fn": lambda ctx: {"break": ctx["iteration"] == 3}},
        {"name": "b", "fn": count},
        {"name": "c", "fn": fail, "error_strategy": "continue"},
    ],
}
CONDITIONAL = {
    "name": "cond",
    "type": "conditional",
    "branches": [
        {"name": "no", "condition": {"type": "never"}, "steps": [{"name": "x", "fn": count}]},
        {
            "name": "yes",
            "condition": {"type": "always"},
            "steps": [
                {"name": "y", "fn": count},
                {"name": "z", "tool": "echo", "input": {"from_y": "{{steps.y.output}}"}},
            ],
        },
    ],
}
PARALLEL = {
    "name": "par",
    "type": "parallel",
    "steps": [{"name": f"p{n}", "tool": "echo", "input": {"n": n}} for n in range(5)],
}


@pytest.mark.parametrize(("definition", "records"), [(LOOP, 10), (CONDITIONAL, 2), (PARALLEL, 5)])
async def test_replayed_records_equal_the_progress_at_every_checkpoint(
    definition: dict[str, Any], records: int
) -> None:
    services = Checking()
    run = WorkflowRun(workflow_from_dict(definition), services, {"topic": "t"}, run_id="run_p")
    services.run = run
    result = await run.execute()
    assert result["success"] is True
    assert services.compared == len(services.saved) == records
    assert ["input" in record for record in services.saved] == [True] + [False] * (records - 1)


async def test_the_step_ending_a_loop_iteration_records_it() -> None:
    services = Checking()
    run = WorkflowRun(workflow_from_dict(LOOP), services, None, run_id="run_l")
    services.run = run
    result = await run.execute()
    assert result["metadata"]["loop_exit"] == "break"
    ended = [(record["key"], record.get("ends_iteration", False)) for record in services.saved]
    assert ended == [
        ("a#1", False), ("d#1", False), ("b#1", False), ("c#1", True),
        ("a#2", False), ("d#2", False), ("b#2", False), ("c#2", True),
        ("a#3", False), ("d#3", True),
    ]  # fmt: skip
    progress = replay(services.saved)
    assert progress is not None
    assert [sorted(it) for it in progress["iterations"]] == [["a", "b", "d"]] * 2 + [["a", "d"]]
    assert progress["completed"]["c#2"] == {"success": False}
    assert progress["shared"] == {"n": 2}


def step(key: str, output: Any, **extra: Any) -> dict[str, Any]:
    entry = {"name": key, "success": True, "duration_ms": 1.0, "attempts": 1}
    return {"kind": "step", "key": key, "step": entry, "output": output, "shared": {}, **extra}


def test_a_record_with_the_input_starts_the_progress_over() -> None:
    progress = replay([step("a", 1, input="first"), step("b", 2), step("a", 10, input="second")])
    assert progress is not None
    assert progress["input"] == "second"
    assert progress["completed"] == {"a": {"success": True, "output": 10}}
    assert [entry["name"] for entry in progress["steps"]] == ["a"]
    assert replay([]) is None


async def test_a_run_id_used_again_without_resuming_starts_over() -> None:
    calls: list[str] = []

    def second(ctx: dict[str, Any]) -> str:
        calls.append(ctx["input"])
        if ctx["input"] == "two":
            raise RuntimeError("not with two")
        return "b"

    services = PythonServices()
    wf = workflow_from_dict(
        {
            "name": "again",
            "steps": [
                {"name": "a", "fn": lambda ctx: ctx["input"]},
                {"name": "b", "fn": second},
                {"name": "c", "fn": fail},
            ],
        }
    )
    assert (await wf.execute("one", services, run_id="r"))["metadata"]["failed_step"] == "c"
    assert (await wf.execute("two", services, run_id="r"))["metadata"]["failed_step"] == "b"
    resumed = await wf.execute(None, services, run_id="r", resume=True)
    assert calls == ["one", "two", "two"]  # b of the first run is not taken as done
    assert resumed["metadata"]["failed_step"] == "b"
    assert resumed["outputs"] == {"a": "two"}


def test_an_unknown_record_kind_is_refused() -> None:
    with pytest.raises(StateError, match="checkpoint record of unknown kind 'later'"):
        replay([step("a", 1, input=None), {"kind": "later"}])


def test_values_json_cannot_round_trip_are_stored_as_json_writes_them() -> None:
    record = {"output": {"sparse": {1: "a", 3: "c"}}, "shared": {"t": (1, 2)}}
    assert json.loads(encode_value(record)) == {
        "output": {"sparse": {"1": "a", "3": "c"}},
        "shared": {"t": [1, 2]},
    }
