"""Sequential workflows: result shape, data flowing between steps, step kinds, hooks, events."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.core.errors import Cancelled
from llmspell.workflows import PythonServices, Workflow, WorkflowBuilder, workflow_from_dict


def pipeline() -> Workflow:
    return workflow_from_dict(
        {
            "name": "x",
            "steps": [
                {"name": "shout", "tool": "upper", "input": {"text": "{{input.text}}"}},
                {
                    "name": "copy",
                    "tool": "echo",
                    "input": {"value": "{{steps.shout.output.result}}"},
                },
                {"name": "size", "fn": lambda ctx: len(ctx["outputs"]["copy"]["result"]["value"])},
                {
                    "name": "last",
                    "type": "function",
                    "fn": lambda ctx: ctx["params"],
                    "input": {"n": "{{steps.size.output}}"},
                },
            ],
        }
    )


async def test_result_shape_and_summary(services: PythonServices) -> None:
    result = await pipeline().execute({"text": "hello"}, services)
    assert result["success"] is True
    assert result["text"] == "Sequential workflow 'x' completed: 4/4 steps"
    assert result["outputs"]["shout"]["result"] == "HELLO"
    assert result["outputs"]["copy"]["result"] == {"value": "HELLO"}
    assert result["outputs"]["size"] == 5
    assert result["final"] == {"n": 5}
    assert [s["name"] for s in result["steps"]] == ["shout", "copy", "size", "last"]
    assert all(s["success"] and s["attempts"] == 1 for s in result["steps"])
    assert all(s["duration_ms"] >= 0 for s in result["steps"])
    assert result["execution_id"].startswith("exec_")
    assert result["metadata"] == {
        "workflow_type": "sequential",
        "workflow_name": "x",
        "workflow_id": result["metadata"]["workflow_id"],
        "total_steps": 4,
        "successful_steps": 4,
        "failed_steps": 0,
        "status": "completed",
    }
    assert "error" not in result


async def test_instance_keeps_last_run(services: PythonServices) -> None:
    wf = pipeline()
    assert wf.get_execution_id() is None
    assert wf.get_all_outputs() == {}
    result = await wf.execute({"text": "ab"}, services)
    assert wf.get_execution_id() == result["execution_id"]
    assert wf.get_output("size") == 2
    assert wf.get_output("missing") is None
    assert set(wf.get_all_outputs()) == {"shout", "copy", "size", "last"}


async def test_function_context_and_shared_data() -> None:
    seen: dict[str, Any] = {}

    async def first(ctx: dict[str, Any]) -> str:
        seen.update(ctx)
        ctx["shared"]["note"] = "from first"
        return "one"

    wf = (
        WorkflowBuilder()
        .name("ctx")
        .add_step({"name": "a", "fn": first})
        .add_step(
            {"name": "b", "fn": lambda ctx: ctx["shared"]["note"] + "/" + ctx["outputs"]["a"]}
        )
        .shared_data("preset", 1)
        .build()
    )
    wf.set_shared_data("later", 2)
    result = await wf.execute({"q": 1})
    assert seen["input"] == {"q": 1}
    assert seen["shared"]["preset"] == 1 and seen["shared"]["later"] == 2
    assert seen["step"] == "a" and seen["workflow"] == "ctx" and seen["iteration"] is None
    assert result["final"] == "from first/one"
    assert wf.shared == {"preset": 1, "later": 2}


async def test_agent_steps_by_name_and_object() -> None:
    class Writer:
        async def execute(self, text: Any) -> dict[str, Any]:
            return {"text": f"draft of {text}", "metadata": {"model": "scripted"}}

    services = PythonServices(agents={"critic": lambda text: f"critique of {text}"})
    wf = workflow_from_dict(
        {
            "name": "agents",
            "steps": [
                {"name": "write", "type": "agent", "agent": Writer()},
                {
                    "name": "review",
                    "type": "agent",
                    "agent": "critic",
                    "input": "{{steps.write.output.text}}",
                },
            ],
        }
    )
    result = await wf.execute("a poem", services)
    assert result["outputs"]["write"]["text"] == "draft of a poem"
    assert result["final"]["text"] == "critique of draft of a poem"


async def test_tool_result_with_success_false_fails_the_step() -> None:
    services = PythonServices(tools={"bad": lambda p: {"success": False, "error": "no disk"}})
    wf = workflow_from_dict({"name": "t", "steps": [{"name": "s", "tool": "bad"}]})
    result = await wf.execute(None, services)
    assert result["success"] is False
    assert result["steps"][0]["error"] == "ToolError: tool 'bad' failed: no disk"


async def test_unknown_tool_is_a_step_failure() -> None:
    wf = workflow_from_dict({"name": "t", "steps": [{"name": "s", "tool": "nope"}]})
    result = await wf.execute(None, PythonServices())
    assert result["error"] == "ToolNotFound: tool 'nope' not found"
    assert result["text"] == (
        "Sequential workflow 't' failed at step 's': ToolNotFound: tool 'nope' not found "
        "(0/1 steps)"
    )


async def test_hooks_modify_input_and_output(services: PythonServices) -> None:
    points: list[str] = []

    def hooks(point: str, data: dict[str, Any]) -> dict[str, Any] | None:
        points.append(point)
        if point == "BeforeWorkflowStage":
            return {**data, "input": {"text": "hooked"}}
        if point == "AfterWorkflowStage":
            return {**data, "output": {"wrapped": data["output"]["result"]}}
        return None

    services.hooks = hooks
    wf = workflow_from_dict(
        {"name": "h", "steps": [{"name": "s", "tool": "upper", "input": {"text": "x"}}]}
    )
    result = await wf.execute(None, services)
    assert result["final"] == {"wrapped": "HOOKED"}
    assert points == [
        "BeforeWorkflowStart",
        "BeforeWorkflowStage",
        "AfterWorkflowStage",
        "AfterWorkflowComplete",
    ]


async def test_hook_cancel_cancels_the_run(services: PythonServices) -> None:
    def hooks(point: str, data: dict[str, Any]) -> None:
        if point == "BeforeWorkflowStage" and data["step"] == "b":
            raise Cancelled("not today")

    services.hooks = hooks
    wf = workflow_from_dict(
        {
            "name": "h",
            "steps": [
                {"name": "a", "tool": "echo"},
                {"name": "b", "tool": "echo"},
                {"name": "c", "tool": "echo"},
            ],
        }
    )
    result = await wf.execute(None, services)
    assert result["success"] is False
    assert result["metadata"]["status"] == "cancelled"
    assert result["text"] == "Sequential workflow 'h' cancelled: not today (1/2 steps)"
    assert "c" not in result["outputs"]


async def test_events_are_emitted_in_order(services: PythonServices) -> None:
    events: list[tuple[str, str | None]] = []
    services.on_event = lambda name, data: events.append((name, data.get("step")))
    wf = workflow_from_dict(
        {
            "name": "e",
            "error_strategy": "continue",
            "steps": [{"name": "a", "tool": "echo"}, {"name": "b", "tool": "fail"}],
        }
    )
    await wf.execute(None, services)
    assert events == [
        ("workflow.started", None),
        ("workflow.step.started", "a"),
        ("workflow.step.completed", "a"),
        ("workflow.step.started", "b"),
        ("workflow.step.failed", "b"),
        ("workflow.completed", None),
    ]


@pytest.mark.parametrize("bad", [{"name": "x", "steps": []}, {"name": "x"}])
def test_sequential_needs_steps(bad: dict[str, Any]) -> None:
    from llmspell.core.errors import ValidationError

    with pytest.raises(ValidationError, match="workflow 'x': field 'steps' must hold at least one"):
        workflow_from_dict(bad)
