"""The table form, the builder, info, validate and the registry."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import ValidationError
from llmspell.workflows import (
    RetryPolicy,
    Step,
    WorkflowBuilder,
    WorkflowRegistry,
    workflow_from_dict,
    workflow_types,
)


def tool_step(name: str = "s", **extra: Any) -> dict[str, Any]:
    return {"name": name, "tool": "echo", **extra}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "w", "steps": [{"name": "s", "tool": "echo", "tol": 1}]},
            "workflow 'w', step 's': unknown field 'tol'",
        ),
        (
            {"name": "w", "steps": [{"name": "s"}]},
            "workflow 'w', step 's': field 'type' is missing",
        ),
        (
            {"name": "w", "steps": [{"name": "s", "type": "robot"}]},
            "step 's': field 'type' must be one of tool, agent, workflow, function, got 'robot'",
        ),
        (
            {"name": "w", "steps": [{"name": "s", "type": "agent"}]},
            "step 's': field 'agent' is required in a step of type 'agent'",
        ),
        (
            {"name": "w", "steps": [tool_step(timeout="10")]},
            "step 's': field 'timeout' must be a number, got a string",
        ),
        (
            {"name": "w", "steps": [tool_step(timeout=0)]},
            "step 's': field 'timeout' must be a positive number of seconds",
        ),
        (
            {"name": "w", "steps": [tool_step(error_strategy="panic")]},
            "step 's': field 'error_strategy' must be one of fail_fast, continue, retry",
        ),
        (
            {"name": "w", "steps": [tool_step(retry={"max_attempts": 0})]},
            "step 's': field 'retry.max_attempts' must be at least 1",
        ),
        (
            {"name": "w", "steps": [tool_step(retry={"tries": 2})]},
            "step 's', field 'retry': unknown field 'tries'",
        ),
        ({"name": "w", "steps": [tool_step(), tool_step()]}, "two steps are named 's'"),
        ({"name": "w", "steps": [tool_step("a.b")]}, "step name 'a.b' must not contain '.'"),
        ({"name": "w", "steps": [tool_step(tool=5)]}, "step 's': field 'tool' must be a string"),
        ({"name": "w", "steps": "x"}, "workflow 'w': field 'steps' must be a list, got a string"),
        ({"name": "w", "steps": [3]}, "workflow 'w', step 1 must be a table, got a number"),
        ({"name": "w", "type": "dag", "steps": [tool_step()]}, "field 'type' must be one of"),
        ({"name": "w", "steps": [tool_step()], "body": []}, "give 'steps' or 'body', not both"),
        (
            {"name": "w", "steps": [tool_step()], "colour": 1},
            "workflow 'w': unknown field 'colour'",
        ),
        ({"name": "", "steps": [tool_step()]}, "field 'name' must be a non-empty string"),
        (
            {"name": "w", "max_concurrency": 0, "type": "parallel", "steps": [tool_step()]},
            "field 'max_concurrency' must be at least 1",
        ),
        (
            {"name": "w", "steps": [tool_step()], "default": [tool_step("d")]},
            "only a conditional workflow has the field 'default'",
        ),
        (
            {"name": "w", "error_strategy": {"skip": 1}, "steps": [tool_step()]},
            "field 'error_strategy' as a table must be",
        ),
    ],
)
def test_errors_name_the_step_and_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        workflow_from_dict(data)


def test_defaults_and_inferred_kinds() -> None:
    wf = workflow_from_dict(
        {
            "steps": [
                {"tool": "echo"},
                {"agent": "writer"},
                {"fn": print},
                {"workflow": {"name": "inner", "steps": [{"tool": "echo"}]}},
            ],
            "branches": {},
            "shared_data": {"k": 1},
        }
    )
    assert wf.name == "workflow" and wf.type == "sequential" and wf.error_strategy == "fail_fast"
    assert [(s.name, s.kind) for s in wf.steps] == [
        ("step_1", "tool"),
        ("step_2", "agent"),
        ("step_3", "function"),
        ("step_4", "workflow"),
    ]
    assert wf.shared == {"k": 1}


def test_strategy_spellings() -> None:
    for spelling in ({"retry": {"max_attempts": 5}}, {"type": "retry", "max_attempts": 5}):
        wf = workflow_from_dict({"name": "w", "error_strategy": spelling, "steps": [tool_step()]})
        assert wf.error_strategy == "retry"
        assert wf.retry == RetryPolicy(max_attempts=5)
    wf = workflow_from_dict({"name": "w", "error_strategy": "retry", "steps": [tool_step()]})
    assert wf.retry is None


def test_builder_mirrors_the_table_form() -> None:
    wf = (
        WorkflowBuilder()
        .name("b")
        .description("demo")
        .parallel()
        .max_concurrency(2)
        .timeout(3)
        .error_strategy("continue")
        .add_step(Step(name="one", kind="tool", tool="echo"))
        .add_step(tool_step("two"))
        .add_branch(None, [tool_step("three")], name="group")
        .build()
    )
    assert (wf.name, wf.type, wf.max_concurrency, wf.timeout) == ("b", "parallel", 2, 3.0)
    assert [s.name for s in wf.all_steps()] == ["one", "two", "three"]
    assert wf.branches[0].name == "group"
    with pytest.raises(ValidationError, match="a parallel branch has no field 'condition'"):
        WorkflowBuilder().parallel().add_branch({"type": "always"}, [tool_step()]).build()


def test_info_and_validate() -> None:
    wf = workflow_from_dict(
        {
            "name": "i",
            "description": "d",
            "steps": [tool_step("a", input={"x": "{{input.x}}"}), {"name": "f", "fn": print}],
        }
    )
    info = wf.get_info()
    assert info["id"] == wf.id and info["id"].startswith("wf_")
    assert info["type"] == "sequential" and info["step_count"] == 2
    assert info["step_names"] == ["a", "f"]
    assert info["steps"][1] == {"name": "f", "type": "function", "fn": "<function>"}
    assert wf.validate() == {"valid": True, "errors": []}
    wf.steps[0].tool = None
    assert wf.validate()["errors"] == [
        "workflow 'i', step 'a': field 'tool' is required in a step of type 'tool'"
    ]


def test_definition_hash_follows_the_definition() -> None:
    data: dict[str, Any] = {"name": "h", "steps": [tool_step(input={"v": 1})]}
    first, second = workflow_from_dict(data), workflow_from_dict(data)
    assert first.id != second.id
    assert first.definition_hash() == second.definition_hash()
    second.steps[0].input = {"v": 2}
    assert first.definition_hash() != second.definition_hash()


def test_registry() -> None:
    registry = WorkflowRegistry()
    first = workflow_from_dict({"name": "one", "steps": [tool_step()]})
    second = workflow_from_dict({"name": "two", "type": "parallel", "steps": [tool_step()]})
    assert registry.register(first) == first.id
    registry.register(second)
    assert registry.get(first.id) is first
    assert registry.get("two") is second
    assert registry.get("three") is None
    assert [w["name"] for w in registry.list()] == ["one", "two"]
    assert registry.list()[1] == {
        "id": second.id,
        "name": "two",
        "type": "parallel",
        "description": "",
        "step_count": 1,
    }
    assert registry.remove("one") and "one" not in registry and len(registry) == 1
    assert workflow_types() == ["sequential", "parallel", "conditional", "loop"]
