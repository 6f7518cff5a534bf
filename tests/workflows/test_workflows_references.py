"""Step references: types kept for whole-string references, text for embedded ones, and
unknown references reported with the step and the reference, at build time when possible."""

from __future__ import annotations

import re
from typing import Any

import pytest

from llmspell.core.errors import ValidationError
from llmspell.workflows import PythonServices, workflow_from_dict


def params_of(name: str, input: Any) -> dict[str, Any]:
    return {"name": name, "fn": lambda ctx: ctx["params"], "input": input}


async def run(steps: list[dict[str, Any]], input: Any = None, **services: Any) -> dict[str, Any]:
    wf = workflow_from_dict({"name": "refs", "steps": steps})
    return await wf.execute(input, PythonServices(**services))


async def test_whole_string_reference_keeps_the_type() -> None:
    source = {"n": 3, "f": 14.0, "ok": True, "items": [1, 2], "table": {"a": 1}, "none": None}
    result = await run(
        [
            {"name": "src", "fn": lambda ctx: source},
            params_of("use", {k: f"{{{{steps.src.output.{k}}}}}" for k in source}),
        ]
    )
    assert result["final"] == source
    assert isinstance(result["final"]["f"], float) and isinstance(result["final"]["n"], int)


async def test_embedded_references_are_stringified() -> None:
    result = await run(
        [
            {"name": "src", "fn": lambda ctx: {"n": 3, "t": {"a": [1, "x"]}, "ok": False}},
            params_of(
                "use",
                "n={{steps.src.output.n}} t={{ steps.src.output.t }} "
                "ok={{steps.src.output.ok}} who={{input.who}}",
            ),
        ],
        {"who": "ann"},
    )
    assert result["final"] == 'n=3 t={"a":[1,"x"]} ok=false who=ann'


async def test_step_numbers_list_positions_input_and_state() -> None:
    result = await run(
        [
            {"name": "first", "fn": lambda ctx: {"items": ["a", "b", "c"]}},
            params_of(
                "second",
                {
                    "by_number": "{{step_1_output.items.2}}",
                    "whole_input": "{{input}}",
                    "state": "{{state.user.name}}",
                    "nested": ["{{input.k}}", {"deep": "{{steps.first.output.items}}"}],
                },
            ),
        ],
        {"k": 7},
        state={"user": {"name": "zoe"}},
    )
    assert result["final"] == {
        "by_number": "b",
        "whole_input": {"k": 7},
        "state": "zoe",
        "nested": [7, {"deep": ["a", "b", "c"]}],
    }


async def test_other_braces_are_left_alone() -> None:
    result = await run([params_of("t", "Hello {{name}}, {{ input.x }}!")], {"x": "y"})
    assert result["final"] == "Hello {{name}}, y!"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [params_of("a", "{{steps.ghost.output}}")],
            "workflow 'refs', step 'a': unknown reference '{{steps.ghost.output}}': "
            "step 'ghost' does not exist",
        ),
        (
            [params_of("a", "{{steps.b.output}}"), params_of("b", 1)],
            "step 'a': unknown reference '{{steps.b.output}}': step 'b' does not run before it",
        ),
        (
            [params_of("a", {"x": ["{{step_3_output}}"]})],
            "step 'a': unknown reference '{{step_3_output}}': the workflow has 1 steps",
        ),
        (
            [params_of("a", "{{steps.a.result}}")],
            "step 'a': field 'input': reference '{{steps.a.result}}' must have the form",
        ),
        ([params_of("a", "{{step_0_output}}")], "step numbers start at 1"),
    ],
)
def test_unknown_step_references_fail_at_build_time(
    steps: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        workflow_from_dict({"name": "refs", "steps": steps})


def test_parallel_siblings_cannot_reference_each_other() -> None:
    with pytest.raises(
        ValidationError, match=r"step 'b': unknown reference .* does not run before"
    ):
        workflow_from_dict(
            {
                "name": "p",
                "type": "parallel",
                "steps": [params_of("a", 1), params_of("b", "{{steps.a.output}}")],
            }
        )


@pytest.mark.parametrize(
    ("input", "state", "reference", "error"),
    [
        (
            {},
            {},
            "{{input.missing}}",
            "ValidationError: step 'use': unknown reference '{{input.missing}}': no key 'missing'",
        ),
        ({"l": [1]}, {}, "{{input.l.5}}", "'5' is not a position (1 to 1)"),
        ("text", {}, "{{input.x}}", "cannot look up 'x' in the value, which is a string"),
        ({}, {}, "{{state.nothing}}", "state key 'nothing' is not set"),
    ],
)
async def test_runtime_reference_errors_name_step_and_reference(
    input: Any, state: dict[str, Any], reference: str, error: str
) -> None:
    result = await run([params_of("use", {"v": reference})], input, state=state)
    assert result["success"] is False
    assert result["metadata"]["failed_step"] == "use"
    assert error in result["error"]


async def test_reference_to_a_failed_step_fails_at_run_time() -> None:
    wf = workflow_from_dict(
        {
            "name": "r",
            "error_strategy": "continue",
            "steps": [
                {"name": "bad", "fn": lambda ctx: 1 / 0},
                params_of("use", "{{steps.bad.output}}"),
            ],
        }
    )
    result = await wf.execute()
    assert result["steps"][1]["error"] == (
        "ValidationError: step 'use': unknown reference '{{steps.bad.output}}': step 'bad' has "
        "no output (it has not run or failed)"
    )
