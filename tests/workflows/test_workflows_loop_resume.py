"""Resuming a loop that a break had ended runs no further iteration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from llmspell.state.store import Store, open_store
from llmspell.workflows import PythonServices, workflow_from_dict
from llmspell.workflows.model import Workflow
from llmspell.workflows.persistence import WorkflowRunStore
from llmspell.workflows.progress import replay


class Body:
    """Loop body functions counting the iterations they run in."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def take(self, ctx: dict[str, Any]) -> int:
        self.seen.append(ctx["iteration"])
        return int(ctx["iteration"])

    def check(self, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"break": ctx["iteration"] == 2}


class PowerCut(PythonServices):
    """Fails the run when the step ``key`` is reported complete: after its checkpoint, before
    the loop goes on."""

    def __init__(self, key: str | None = None, records: WorkflowRunStore | None = None) -> None:
        super().__init__(on_event=self.on_event)
        self.key = key
        self.records = records

    def on_event(self, event: str, data: dict[str, Any]) -> None:
        if event == "workflow.step.completed" and f"{data['step']}#{data['iteration']}" == self.key:
            self.key = None
            raise RuntimeError("power cut")

    async def checkpoint(self, run_id: str, workflow_hash: str, record: dict[str, Any]) -> None:
        if self.records is None:
            await super().checkpoint(run_id, workflow_hash, record)
        else:
            await self.records.checkpoint(run_id, workflow_hash, record)

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        if self.records is None:
            return await super().load_checkpoint(run_id, workflow_hash)
        return await self.records.load_checkpoint(run_id, workflow_hash)


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(memory=True) as opened:
        yield opened


def function_break(body: Body) -> Workflow:
    return workflow_from_dict(
        {
            "name": "fb",
            "type": "loop",
            "iterations": 5,
            "body": [
                {"name": "take", "fn": body.take},
                {"name": "check", "fn": body.check},
                {"name": "after", "fn": lambda ctx: "after"},
            ],
        }
    )


def condition_break(body: Body) -> Workflow:
    return workflow_from_dict(
        {
            "name": "cb",
            "type": "loop",
            "iterations": 5,
            "break_condition": {"type": "step_output_equals", "step": "take", "value": 2},
            "body": [{"name": "take", "fn": body.take}, {"name": "after", "fn": body.take}],
        }
    )


CASES = [
    (function_break, None),
    (function_break, "check#2"),
    (condition_break, None),
    (condition_break, "after#2"),
]
"""Each loop, run to its end or cut off after the step ending iteration 2."""


@pytest.mark.parametrize(("build", "cut_after"), CASES)
@pytest.mark.parametrize("stored", [False, True])
async def test_a_loop_ended_by_a_break_resumes_without_another_iteration(
    store: Store, build: Any, cut_after: str | None, stored: bool
) -> None:
    body = Body()
    wf = build(body)
    services = PowerCut(cut_after, WorkflowRunStore(store) if stored else None)
    first = await wf.execute(None, services, run_id="run_b")
    assert first["success"] is (cut_after is None)
    assert len(first["iterations"]) == 2
    ran = list(body.seen)

    resumed = await wf.execute(None, services, run_id="run_b", resume=True)
    assert resumed["success"] is True and resumed["metadata"]["resumed"] is True
    assert body.seen == ran  # no iteration 3, nor a step of iteration 2 again
    assert len(resumed["iterations"]) == 2
    assert resumed["metadata"]["loop_exit"] == "break"
    assert max(step["iteration"] for step in resumed["steps"]) == 2


async def test_the_break_condition_is_not_checked_again_inside_the_next_iteration() -> None:
    calls: list[str] = []

    def finish(ctx: dict[str, Any]) -> str:
        calls.append(ctx["item"])
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return "done"

    wf = workflow_from_dict(
        {
            "name": "c",
            "type": "loop",
            "collection": ["x", "y", "stop", "z"],
            "break_condition": {"type": "step_output_equals", "step": "take", "value": "stop"},
            "body": [
                {"name": "take", "fn": lambda ctx: ctx["item"]},
                {"name": "finish", "fn": finish},
            ],
        }
    )
    services = PythonServices()
    assert (await wf.execute(None, services, run_id="r"))["success"] is False
    resumed = await wf.execute(None, services, run_id="r", resume=True)
    assert calls == ["x", "y", "stop", "stop"]  # iteration 3 completed before the loop broke
    assert [it["finish"] for it in resumed["iterations"]] == ["done"] * 3
    assert resumed["metadata"]["loop_exit"] == "break"


async def test_the_record_of_the_breaking_step_says_it_broke_the_loop() -> None:
    services = PythonServices()
    await function_break(Body()).execute(None, services, run_id="r")
    records = services.checkpoints["r"][1]
    assert [r["key"] for r in records if r.get("breaks_loop")] == ["check#2"]
    progress = replay(records)
    assert progress is not None and progress["loop_broken"] is True
    older = replay([{k: v for k, v in r.items() if k != "breaks_loop"} for r in records])
    assert older is not None and older["loop_broken"] is False
    assert older["iterations"] == progress["iterations"]
