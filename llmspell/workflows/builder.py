"""``WorkflowBuilder``: the Python twin of ``Workflow.builder()`` in scripts.

Each setter returns the builder; ``build()`` goes through the table form, so a built workflow
is checked exactly like one from ``workflow_from_dict`` or a file. A conditional's
``condition`` with its then/else steps becomes a branch named ``then`` and the default steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmspell.core.errors import ValidationError
from llmspell.workflows.model import Step, Workflow
from llmspell.workflows.tables import workflow_from_dict

StepLike = Step | Mapping[str, Any]


class WorkflowBuilder:
    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._steps: list[StepLike] = []
        self._branches: list[dict[str, Any]] = []
        self._condition: Any = None
        self._then: list[StepLike] = []
        self._else: list[StepLike] = []

    def name(self, name: str) -> WorkflowBuilder:
        self._data["name"] = name
        return self

    def description(self, text: str) -> WorkflowBuilder:
        self._data["description"] = text
        return self

    def type(self, kind: str) -> WorkflowBuilder:
        self._data["type"] = kind
        return self

    def sequential(self) -> WorkflowBuilder:
        return self.type("sequential")

    def parallel(self) -> WorkflowBuilder:
        return self.type("parallel")

    def conditional(self) -> WorkflowBuilder:
        return self.type("conditional")

    def loop(self) -> WorkflowBuilder:
        return self.type("loop")

    def add_step(self, step: StepLike) -> WorkflowBuilder:
        """A step of a sequential or parallel workflow, or of a loop's body."""
        self._steps.append(step)
        return self

    def add_branch(
        self, condition: Any, steps: list[StepLike], name: str | None = None
    ) -> WorkflowBuilder:
        """A branch: a condition and its steps (``None`` condition for a parallel branch)."""
        branch: dict[str, Any] = {"steps": list(steps)}
        if condition is not None:
            branch["condition"] = condition
        if name is not None:
            branch["name"] = name
        self._branches.append(branch)
        return self

    def condition(self, condition: Any) -> WorkflowBuilder:
        self._condition = condition
        return self

    def add_then_step(self, step: StepLike) -> WorkflowBuilder:
        self._then.append(step)
        return self

    def add_else_step(self, step: StepLike) -> WorkflowBuilder:
        self._else.append(step)
        return self

    def error_strategy(self, strategy: str | Mapping[str, Any]) -> WorkflowBuilder:
        """``fail_fast``, ``continue``, ``retry`` or ``{retry={max_attempts, backoff_ms,
        multiplier}}``."""
        self._data["error_strategy"] = strategy
        return self

    def retry(
        self, max_attempts: int = 3, backoff_ms: float = 100.0, multiplier: float = 2.0
    ) -> WorkflowBuilder:
        """The retry policy of the ``retry`` strategy (also sets that strategy)."""
        self._data["error_strategy"] = "retry"
        self._data["retry"] = {
            "max_attempts": max_attempts,
            "backoff_ms": backoff_ms,
            "multiplier": multiplier,
        }
        return self

    def timeout(self, seconds: float) -> WorkflowBuilder:
        self._data["timeout"] = seconds
        return self

    def max_concurrency(self, limit: int) -> WorkflowBuilder:
        self._data["max_concurrency"] = limit
        return self

    def iterations(self, count: int) -> WorkflowBuilder:
        self._data["iterations"] = count
        return self

    def range(self, start: int, stop: int, step: int = 1) -> WorkflowBuilder:
        """Iterate from ``start`` to ``stop`` inclusive, like Lua's numeric ``for``."""
        self._data["range"] = {"start": start, "stop": stop, "step": step}
        return self

    def collection(self, items: list[Any] | str) -> WorkflowBuilder:
        """A list, or a reference such as ``"{{input.items}}"`` resolved when the loop starts."""
        self._data["collection"] = items
        return self

    def while_condition(self, condition: Any) -> WorkflowBuilder:
        self._data["while"] = condition
        return self

    def break_condition(self, condition: Any) -> WorkflowBuilder:
        self._data["break_condition"] = condition
        return self

    def max_iterations(self, count: int) -> WorkflowBuilder:
        self._data["max_iterations"] = count
        return self

    def shared_data(self, key: str, value: Any) -> WorkflowBuilder:
        self._data.setdefault("shared", {})[key] = value
        return self

    def build(self) -> Workflow:
        """The checked workflow; raises ``ValidationError`` naming the step and the field."""
        data = dict(self._data)
        branches = list(self._branches)
        if self._condition is not None:
            branches.insert(0, {"name": "then", "condition": self._condition, "steps": self._then})
        elif self._then:
            raise ValidationError("workflow builder: add_then_step needs condition(...)")
        if branches:
            data["branches"] = branches
        if self._else:
            data["default"] = list(self._else)
        if self._steps:
            data["steps"] = list(self._steps)
        return workflow_from_dict(data)
