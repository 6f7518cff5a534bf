"""``PayloadEncoder``: successive checkpoint payloads encode to the JSON of their content."""

from __future__ import annotations

import json
from typing import Any

from llmspell.workflows import workflow_from_dict
from llmspell.workflows.payloads import PayloadEncoder
from llmspell.workflows.services import PythonServices


def decoded(encoder: PayloadEncoder, payload: dict[str, Any]) -> Any:
    return json.loads(encoder.encode(payload))


def test_growing_and_replaced_entries_encode_to_the_current_content() -> None:
    encoder = PayloadEncoder()
    outputs: dict[str, Any] = {"a": {"x": 1}}
    steps: list[Any] = [{"name": "a"}]
    payload = {"version": 1, "outputs": outputs, "steps": steps, "final": outputs["a"]}
    assert decoded(encoder, payload) == payload

    outputs["b"] = [1, 2.5, "three", None, True]
    steps.append({"name": "b"})
    payload["final"] = outputs["b"]
    assert decoded(encoder, payload) == payload

    outputs["a"] = {"x": 2}  # a loop replaces an output
    steps.append({"name": "a", "iteration": 2})
    assert decoded(encoder, payload) == payload

    payload["outputs"] = {"c": "fresh table"}  # a restore replaces the whole table
    payload["steps"] = []
    assert decoded(encoder, payload) == payload


def test_values_json_cannot_round_trip_are_stored_as_json_writes_them() -> None:
    encoder = PayloadEncoder()
    payload = {"outputs": {"sparse": {1: "a", 3: "c"}}, "shared": {"t": (1, 2)}}
    assert decoded(encoder, payload) == {
        "outputs": {"sparse": {"1": "a", "3": "c"}},
        "shared": {"t": [1, 2]},
    }


async def test_every_checkpoint_of_a_loop_run_matches_its_payload() -> None:
    class Recording(PythonServices):
        def __init__(self) -> None:
            super().__init__(tools={"echo": lambda params: params})
            self.encoder = PayloadEncoder()
            self.mismatches = 0
            self.count = 0

        async def checkpoint(
            self, run_id: str, workflow_hash: str, payload: dict[str, Any]
        ) -> None:
            self.count += 1
            expected = json.loads(json.dumps(payload))
            self.mismatches += decoded(self.encoder, payload) != expected

    services = Recording()
    wf = workflow_from_dict(
        {
            "name": "loop",
            "type": "loop",
            "iterations": 4,
            "body": [
                {"name": "a", "tool": "echo", "input": {"i": "{{loop.iteration}}"}},
                {"name": "b", "fn": lambda ctx: ctx["outputs"]["a"]["result"]["i"] * 10},
            ],
        }
    )
    result = await wf.execute(None, services, run_id="r")
    assert result["success"] is True
    assert services.count == 12  # 8 steps and 4 iterations
    assert services.mismatches == 0
