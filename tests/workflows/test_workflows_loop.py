"""Loop workflows: iterations, ranges, collections, while-conditions, max_iterations, break,
and outputs per iteration."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import ValidationError
from llmspell.workflows import WorkflowBuilder, workflow_from_dict


def item_step(name: str = "take") -> dict[str, Any]:
    return {"name": name, "fn": lambda ctx: {"i": ctx["iteration"], "item": ctx["item"]}}


async def test_iterations_give_outputs_per_iteration() -> None:
    wf = workflow_from_dict(
        {
            "name": "l",
            "type": "loop",
            "iterations": 3,
            "body": [
                item_step(),
                {
                    "name": "twice",
                    "fn": lambda ctx: ctx["params"] * 2,
                    "input": "{{steps.take.output.item}}",
                },
            ],
        }
    )
    result = await wf.execute()
    assert result["iterations"] == [
        {"take": {"i": 1, "item": 1}, "twice": 2},
        {"take": {"i": 2, "item": 2}, "twice": 4},
        {"take": {"i": 3, "item": 3}, "twice": 6},
    ]
    assert result["outputs"] == {"take": {"i": 3, "item": 3}, "twice": 6}
    assert result["final"] == 6
    assert [s["iteration"] for s in result["steps"]] == [1, 1, 2, 2, 3, 3]
    assert result["text"] == "Loop workflow 'l' completed: 6/6 steps, 3 iterations"
    assert result["metadata"]["loop_exit"] == "completed"


async def test_range_is_inclusive_and_may_count_down() -> None:
    wf = WorkflowBuilder().name("r").loop().range(10, 4, -3).add_step(item_step()).build()
    result = await wf.execute()
    assert [it["take"]["item"] for it in result["iterations"]] == [10, 7, 4]


async def test_collection_from_a_list_and_from_the_input() -> None:
    wf = workflow_from_dict(
        {"name": "c", "type": "loop", "collection": ["a", "b"], "body": [item_step()]}
    )
    assert [it["take"]["item"] for it in (await wf.execute())["iterations"]] == ["a", "b"]
    wf = workflow_from_dict(
        {"name": "c", "type": "loop", "collection": "{{input.items}}", "body": [item_step()]}
    )
    result = await wf.execute({"items": [{"x": 1}, {"x": 2}, {"x": 3}]})
    assert [it["take"]["item"]["x"] for it in result["iterations"]] == [1, 2, 3]
    result = await wf.execute({"items": "nope"})
    assert result["success"] is False
    assert "field 'collection' must give a list, got a string" in result["error"]


async def test_while_condition_and_max_iterations() -> None:
    def bump(ctx: dict[str, Any]) -> int:
        ctx["shared"]["n"] = ctx["shared"].get("n", 0) + 1
        return int(ctx["shared"]["n"])

    wf = workflow_from_dict(
        {
            "name": "w",
            "type": "loop",
            "while": lambda ctx: ctx["shared"].get("n", 0) < 4,
            "body": [{"name": "bump", "fn": bump}],
        }
    )
    result = await wf.execute()
    assert len(result["iterations"]) == 4 and result["final"] == 4
    assert result["metadata"]["loop_exit"] == "completed"
    wf = workflow_from_dict(
        {
            "name": "w",
            "type": "loop",
            "while": {"type": "always"},
            "max_iterations": 5,
            "body": [{"name": "bump", "fn": bump}],
        }
    )
    result = await wf.execute()
    assert len(result["iterations"]) == 5
    assert result["metadata"]["loop_exit"] == "max_iterations"


async def test_break_from_a_function_step_skips_the_rest_of_the_body() -> None:
    wf = workflow_from_dict(
        {
            "name": "b",
            "type": "loop",
            "iterations": 10,
            "body": [
                {"name": "check", "fn": lambda ctx: {"break": ctx["iteration"] == 2}},
                item_step("after"),
            ],
        }
    )
    result = await wf.execute()
    assert len(result["iterations"]) == 2
    assert result["iterations"][1] == {"check": {"break": True}}
    assert result["outputs"]["after"]["i"] == 1
    assert result["metadata"]["loop_exit"] == "break"


async def test_break_condition_on_an_output() -> None:
    wf = workflow_from_dict(
        {
            "name": "b",
            "type": "loop",
            "collection": ["x", "stop", "y"],
            "break_condition": {
                "type": "step_output_equals",
                "step": "take",
                "path": "item",
                "value": "stop",
            },
            "body": [item_step()],
        }
    )
    result = await wf.execute()
    assert [it["take"]["item"] for it in result["iterations"]] == ["x", "stop"]


async def test_zero_iterations_and_a_failing_body() -> None:
    wf = workflow_from_dict({"name": "z", "type": "loop", "iterations": 0, "body": [item_step()]})
    result = await wf.execute()
    assert result["success"] and result["iterations"] == []
    wf = workflow_from_dict(
        {
            "name": "f",
            "type": "loop",
            "iterations": 3,
            "body": [{"name": "boom", "fn": lambda ctx: 1 / (2 - ctx["iteration"])}],
        }
    )
    result = await wf.execute()
    assert result["success"] is False
    assert len(result["iterations"]) == 1
    assert result["steps"][-1] == {
        **result["steps"][-1],
        "name": "boom",
        "iteration": 2,
        "success": False,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"iterations": 2}, "field 'body' must hold at least one step"),
        (
            {"iterations": 2, "collection": [1], "body": [item_step()]},
            "exactly one of 'iterations', 'range', 'collection' or 'while', got iterations, "
            "collection",
        ),
        ({"body": [item_step()]}, "got none"),
        ({"iterations": 1.5, "body": [item_step()]}, "field 'iterations' must be an integer"),
        (
            {"range": {"start": 1, "stop": 3, "step": 0}, "body": [item_step()]},
            "field 'range' must have a non-zero step",
        ),
        ({"collection": "items", "body": [item_step()]}, "must be a list or one reference"),
        (
            {"collection": "{{steps.take.output}}", "body": [item_step()]},
            "cannot refer to the loop's own steps",
        ),
        ({"collection": 5, "body": [item_step()]}, "field 'collection' must be a list or a ref"),
        (
            {"iterations": 1, "max_iterations": 0, "body": [item_step()]},
            "field 'max_iterations' must be at least 1",
        ),
    ],
)
def test_loop_validation(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        workflow_from_dict({"name": "l", "type": "loop", **data})


def test_loop_fields_only_on_loops() -> None:
    with pytest.raises(ValidationError, match="only a loop workflow has the field 'iterations'"):
        workflow_from_dict({"name": "s", "iterations": 3, "steps": [item_step()]})


async def test_loop_references_in_step_inputs() -> None:
    wf = workflow_from_dict(
        {
            "name": "refs",
            "type": "loop",
            "collection": [{"w": "a"}, {"w": "b"}],
            "body": [
                {
                    "name": "p",
                    "fn": lambda ctx: ctx["params"],
                    "input": "{{loop.iteration}}:{{loop.item.w}}",
                }
            ],
        }
    )
    result = await wf.execute()
    assert [it["p"] for it in result["iterations"]] == ["1:a", "2:b"]


def test_loop_references_outside_a_loop_are_refused() -> None:
    with pytest.raises(
        ValidationError,
        match=r"step 's': reference '\{\{loop.item\}\}' is only "
        "known in the body of a loop",
    ):
        workflow_from_dict(
            {"name": "x", "steps": [{"name": "s", "fn": print, "input": "{{loop.item}}"}]}
        )
    with pytest.raises(ValidationError, match="must be"):
        workflow_from_dict(
            {
                "name": "x",
                "type": "loop",
                "iterations": 1,
                "body": [{"name": "s", "fn": print, "input": "{{loop.index}}"}],
            }
        )
