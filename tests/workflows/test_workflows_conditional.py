"""Conditional workflows: ordered branches, the default, and every condition form."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import ValidationError
from llmspell.workflows import WorkflowBuilder, workflow_from_dict


def say(name: str) -> dict[str, Any]:
    return {"name": name, "fn": lambda ctx: name}


def router(branches: list[dict[str, Any]], default: bool = True) -> Any:
    data: dict[str, Any] = {"name": "route", "type": "conditional", "branches": branches}
    if default:
        data["default"] = [say("fallback")]
    return workflow_from_dict(data)


async def test_first_true_branch_wins() -> None:
    wf = router(
        [
            {"name": "no", "condition": {"type": "never"}, "steps": [say("a")]},
            {"name": "yes", "condition": {"type": "always"}, "steps": [say("b"), say("c")]},
            {"condition": {"type": "always"}, "steps": [say("d")]},
        ]
    )
    result = await wf.execute()
    assert result["outputs"] == {"b": "b", "c": "c"}
    assert result["metadata"]["branch"] == "yes"
    assert result["text"] == "Conditional workflow 'route' completed: 2/2 steps, branch 'yes'"


async def test_default_and_no_match() -> None:
    never = [{"condition": {"type": "never"}, "steps": [say("a")]}]
    result = await router(never).execute()
    assert result["final"] == "fallback" and result["metadata"]["branch"] == "default"
    result = await router(never, default=False).execute()
    assert result["success"] and result["outputs"] == {}
    assert result["text"] == "Conditional workflow 'route' completed: 0/0 steps, no branch matched"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"type": "shared_data_equals", "key": "mode", "value": "fast"}, True),
        ({"type": "shared_data_equals", "key": "mode", "value": "slow"}, False),
        ({"type": "input_equals", "path": "user.role", "value": "admin"}, True),
        ({"type": "input_equals", "path": "user.missing", "value": None}, False),
        (
            {
                "type": "and",
                "conditions": [
                    {"type": "always"},
                    {"type": "input_equals", "path": "n", "value": 2},
                ],
            },
            True,
        ),
        ({"and": [{"type": "always"}, {"type": "never"}]}, False),
        ({"or": [{"type": "never"}, {"type": "always"}]}, True),
        ({"type": "or", "conditions": [{"type": "never"}]}, False),
        ({"not": {"type": "never"}}, True),
        ({"type": "not", "condition": {"type": "always"}}, False),
        (lambda ctx: ctx["input"]["n"] > 1, True),
        (lambda ctx: 0, True),
        (lambda ctx: None, False),
    ],
)
async def test_condition_forms(condition: Any, expected: bool) -> None:
    wf = router([{"name": "hit", "condition": condition, "steps": [say("hit")]}])
    wf.set_shared_data("mode", "fast")
    result = await wf.execute({"user": {"role": "admin"}, "n": 2})
    assert ("hit" in result["outputs"]) is expected


async def test_async_condition_function_sees_shared_data() -> None:
    async def check(ctx: dict[str, Any]) -> bool:
        return bool(ctx["shared"].get("go"))

    wf = (
        WorkflowBuilder()
        .name("c")
        .conditional()
        .condition(check)
        .add_then_step(say("then"))
        .add_else_step(say("else"))
        .build()
    )
    assert (await wf.execute())["final"] == "else"
    wf.set_shared_data("go", True)
    result = await wf.execute()
    assert result["final"] == "then"
    assert result["metadata"]["branch"] == "then"


async def test_step_output_equals_in_a_nested_conditional() -> None:
    inner = {
        "name": "inner",
        "type": "conditional",
        "branches": [
            {
                "condition": {"type": "input_equals", "path": "label", "value": "spam"},
                "steps": [say("drop")],
            }
        ],
        "default": [say("keep")],
    }
    wf = workflow_from_dict(
        {
            "name": "outer",
            "steps": [
                {"name": "classify", "fn": lambda ctx: {"label": "spam"}},
                {"name": "route", "workflow": inner, "input": "{{steps.classify.output}}"},
            ],
        }
    )
    result = await wf.execute()
    assert result["final"]["final"] == "drop"


@pytest.mark.parametrize(
    ("branch", "message"),
    [
        ({"steps": []}, "branch 1, field 'condition': a condition is required"),
        ({"condition": {"type": "maybe"}, "steps": []}, "unknown condition type 'maybe'"),
        (
            {"condition": {"type": "shared_data_equals"}, "steps": []},
            "a 'shared_data_equals' condition needs the field 'key'",
        ),
        (
            {"condition": {"type": "always", "extra": 1}, "steps": []},
            "unknown field 'extra' in a 'always' condition",
        ),
        (
            {"condition": {"type": "step_output_equals", "step": "ghost", "value": 1}, "steps": []},
            "condition tests unknown step 'ghost'",
        ),
        (
            {"condition": {"and": {"type": "always"}}, "steps": []},
            "field 'conditions' of 'and' must be a list",
        ),
        ({"condition": {"or": [{"type": "x"}]}, "steps": []}, r"or\[1\]: unknown condition type"),
        (
            {"condition": {"type": "always"}, "steps": [], "when": 1},
            "branch 1: unknown field 'when'",
        ),
    ],
)
def test_bad_conditions_are_named(branch: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        router([branch])


def test_conditional_needs_branches() -> None:
    with pytest.raises(ValidationError, match="field 'branches' must hold at least one branch"):
        workflow_from_dict({"name": "c", "type": "conditional", "default": [say("x")]})
    with pytest.raises(ValidationError, match="add_then_step needs condition"):
        WorkflowBuilder().name("c").conditional().add_then_step(say("x")).build()
