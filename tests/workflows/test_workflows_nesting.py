"""Nested workflows: a workflow step runs another workflow with its own input."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import ValidationError
from llmspell.workflows import PythonServices, Step, workflow_from_dict


def inner() -> dict[str, Any]:
    return {
        "name": "inner",
        "steps": [
            {"name": "shout", "tool": "upper", "input": {"text": "{{input.word}}"}},
            {
                "name": "tag",
                "fn": lambda ctx: f"{ctx['shared']['prefix']}{ctx['outputs']['shout']['result']}",
            },
        ],
    }


async def test_nested_result_is_the_step_output(services: PythonServices) -> None:
    wf = workflow_from_dict(
        {
            "name": "outer",
            "shared": {"prefix": ">"},
            "steps": [
                {"name": "pick", "fn": lambda ctx: "hey"},
                {
                    "name": "sub",
                    "type": "workflow",
                    "workflow": inner(),
                    "input": {"word": "{{steps.pick.output}}"},
                },
                {
                    "name": "use",
                    "fn": lambda ctx: ctx["params"],
                    "input": "{{steps.sub.output.final}}!",
                },
            ],
        }
    )
    result = await wf.execute(None, services)
    assert result["outputs"]["sub"]["text"] == "Sequential workflow 'inner' completed: 2/2 steps"
    assert result["outputs"]["sub"]["outputs"]["shout"]["result"] == "HEY"
    assert result["final"] == ">HEY!"


async def test_nested_workflow_gets_the_parent_input_by_default(services: PythonServices) -> None:
    wf = workflow_from_dict(
        {"name": "outer", "shared": {"prefix": ""}, "steps": [{"name": "sub", "workflow": inner()}]}
    )
    result = await wf.execute({"word": "yo"}, services)
    assert result["final"]["final"] == "YO"


async def test_nested_failure_fails_the_step(services: PythonServices) -> None:
    failing = {"name": "inner", "steps": [{"name": "bad", "tool": "fail"}]}
    wf = workflow_from_dict({"name": "outer", "steps": [{"name": "sub", "workflow": failing}]})
    result = await wf.execute(None, services)
    assert result["success"] is False
    assert result["error"] == (
        "WorkflowError: Sequential workflow 'inner' failed at step 'bad': ToolError: boom "
        "(0/1 steps)"
    )


def test_nested_errors_name_the_inner_workflow_and_step() -> None:
    broken = {"name": "inner", "steps": [{"name": "x", "type": "tool"}]}
    with pytest.raises(
        ValidationError,
        match="workflow 'inner', step 'x': field 'tool' is required in a step of type 'tool'",
    ):
        workflow_from_dict({"name": "outer", "steps": [{"name": "sub", "workflow": broken}]})


def test_a_workflow_cannot_contain_itself() -> None:
    wf = workflow_from_dict({"name": "loop", "steps": [{"name": "a", "fn": print}]})
    wf.steps.append(Step(name="again", kind="workflow", workflow=wf))
    assert wf.validate() == {
        "valid": False,
        "errors": ["workflow 'loop' contains itself as a nested workflow"],
    }
