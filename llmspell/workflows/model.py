"""The definition of a workflow: steps, branches, retry policy, and the workflow itself.

A ``Workflow`` is plain data plus the few instance methods scripts call on it (shared data,
outputs of the last run, info, validation, execution). Running it is the executor's job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llmspell_utils.ids import new_id

if TYPE_CHECKING:
    from llmspell.workflows.services import StepServices

StepKind = Literal["tool", "agent", "workflow", "function"]
WorkflowType = Literal["sequential", "parallel", "conditional", "loop"]
ErrorStrategy = Literal["fail_fast", "continue", "retry"]

STEP_KINDS: tuple[StepKind, ...] = ("tool", "agent", "workflow", "function")
WORKFLOW_TYPES: tuple[WorkflowType, ...] = ("sequential", "parallel", "conditional", "loop")
ERROR_STRATEGIES: tuple[ErrorStrategy, ...] = ("fail_fast", "continue", "retry")

DEFAULT_MAX_ITERATIONS = 1000
"""The cap on loop iterations when a loop sets no ``max_iterations``."""


def workflow_types() -> list[str]:
    """The workflow types, for ``Workflow.types()``."""
    return list(WORKFLOW_TYPES)


@dataclass(frozen=True)
class RetryPolicy:
    """How the ``retry`` strategy retries a failing step: ``max_attempts`` in total, waiting
    ``backoff_ms * multiplier ** (n - 1)`` milliseconds after failed attempt ``n``."""

    max_attempts: int = 3
    backoff_ms: float = 100.0
    multiplier: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "backoff_ms": self.backoff_ms,
            "multiplier": self.multiplier,
        }


@dataclass
class Step:
    """One unit of work. ``kind`` says which of ``tool``, ``agent``, ``workflow`` or ``fn``
    it runs; ``input`` may hold ``{{...}}`` references resolved just before the step runs.

    ``agent`` and ``fn`` are opaque to the domain layer (an agent object, a name, a model spec,
    a Python callable or a Lua function handle): the ``StepServices`` know how to run them.
    """

    name: str
    kind: StepKind
    tool: str | None = None
    agent: Any = None
    workflow: Workflow | None = None
    fn: Any = None
    input: Any = None
    timeout: float | None = None
    error_strategy: ErrorStrategy | None = None
    retry: RetryPolicy | None = None

    def describe(self) -> dict[str, Any]:
        """The step as plain data; callables and objects appear as ``<function>``/``<agent>``."""
        data: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.kind == "tool":
            data["tool"] = self.tool
        elif self.kind == "agent":
            data["agent"] = _opaque(self.agent, "agent")
        elif self.kind == "workflow" and self.workflow is not None:
            data["workflow"] = self.workflow.describe()
        elif self.kind == "function":
            data["fn"] = "<function>"
        if self.input is not None:
            data["input"] = _opaque(self.input, "value")
        if self.timeout is not None:
            data["timeout"] = self.timeout
        if self.error_strategy is not None:
            data["error_strategy"] = self.error_strategy
        if self.retry is not None:
            data["retry"] = self.retry.to_dict()
        return data


@dataclass
class Branch:
    """A named sequence of steps: a conditional branch (with ``condition``) or a parallel
    branch (whose steps run one after the other while the branches run concurrently)."""

    steps: list[Step]
    condition: Any = None
    name: str | None = None

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {"steps": [s.describe() for s in self.steps]}
        if self.name is not None:
            data["name"] = self.name
        if self.condition is not None:
            data["condition"] = describe_condition(self.condition)
        return data


@dataclass(eq=False)
class Workflow:
    """A workflow definition and the outputs of its last run.

    Which fields matter depends on ``type``: ``steps`` (sequential, parallel, and the body of a
    loop), ``branches`` (conditional, or parallel groups), ``default`` (conditional), and one
    loop source among ``iterations``, ``range`` (inclusive ``(start, stop, step)``),
    ``collection`` (a list, or a reference string resolving to one) and ``while_condition``.
    """

    name: str
    type: WorkflowType = "sequential"
    steps: list[Step] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)
    default: list[Step] = field(default_factory=list)
    description: str = ""
    iterations: int | None = None
    range: tuple[int, int, int] | None = None
    collection: Any = None
    while_condition: Any = None
    break_condition: Any = None
    max_iterations: int | None = None
    error_strategy: ErrorStrategy = "fail_fast"
    retry: RetryPolicy | None = None
    timeout: float | None = None
    max_concurrency: int | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: new_id("wf"))
    last_result: dict[str, Any] | None = field(default=None, repr=False)

    def all_steps(self) -> list[Step]:
        """Every step of this workflow (not of nested ones) in definition order; this order
        numbers the ``{{step_<N>_output}}`` references."""
        steps = list(self.steps)
        for branch in self.branches:
            steps.extend(branch.steps)
        steps.extend(self.default)
        return steps

    def set_shared_data(self, key: str, value: Any) -> None:
        """Set a value that function steps see in ``ctx.shared`` and conditions can test."""
        self.shared[key] = value

    def get_output(self, step: str) -> Any:
        """The output of ``step`` in the last run (``None`` if it did not run)."""
        return self.get_all_outputs().get(step)

    def get_all_outputs(self) -> dict[str, Any]:
        """The outputs of the last run by step name (empty before the first run)."""
        return dict(self.last_result["outputs"]) if self.last_result else {}

    def get_execution_id(self) -> str | None:
        """The execution id of the last run, ``None`` before the first run."""
        return self.last_result["execution_id"] if self.last_result else None

    def describe(self) -> dict[str, Any]:
        """The definition as plain data (the table form, opaque values as placeholders)."""
        data: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.description:
            data["description"] = self.description
        if self.steps:
            data["steps"] = [s.describe() for s in self.steps]
        if self.branches:
            data["branches"] = [b.describe() for b in self.branches]
        if self.default:
            data["default"] = [s.describe() for s in self.default]
        optional: dict[str, Any] = {
            "iterations": self.iterations,
            "range": list(self.range) if self.range else None,
            "collection": _opaque(self.collection, "value"),
            "while": describe_condition(self.while_condition),
            "break_condition": describe_condition(self.break_condition),
            "max_iterations": self.max_iterations,
            "retry": self.retry.to_dict() if self.retry else None,
            "timeout": self.timeout,
            "max_concurrency": self.max_concurrency,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        data["error_strategy"] = self.error_strategy
        return data

    def definition_hash(self) -> str:
        """A digest of the definition; a checkpoint is resumed only by the same definition."""
        text = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def get_info(self) -> dict[str, Any]:
        """``{id, name, description, type, step_count, steps, error_strategy, ...}``."""
        info = self.describe()
        info["id"] = self.id
        info["description"] = self.description
        info["step_count"] = len(self.all_steps())
        info["step_names"] = [s.name for s in self.all_steps()]
        return info

    def validate(self) -> dict[str, Any]:
        """``{valid, errors}``: the structural checks that building a workflow runs."""
        from llmspell.core.errors import ValidationError
        from llmspell.workflows.validation import check_workflow

        try:
            check_workflow(self)
        except ValidationError as exc:
            return {"valid": False, "errors": [str(exc)]}
        return {"valid": True, "errors": []}

    async def execute(
        self,
        input: Any = None,
        services: StepServices | None = None,
        *,
        run_id: str | None = None,
        resume: bool = False,
    ) -> dict[str, Any]:
        """Run the workflow and return the result table (see ``WorkflowRun.execute``)."""
        from llmspell.workflows.executor import WorkflowRun

        run = WorkflowRun(self, services, input, run_id=run_id, resume=resume)
        return await run.execute()


def describe_condition(condition: Any) -> Any:
    """A condition as plain data: dict forms as they are, callables as ``<function>``."""
    if condition is None or isinstance(condition, dict):
        return _opaque(condition, "function")
    return "<function>"


def _opaque(value: Any, label: str) -> Any:
    """``value`` when it is plain data, else a ``<label>`` placeholder (recursively)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _opaque(v, label) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_opaque(v, label) for v in value]
    if isinstance(value, Workflow):
        return value.describe()
    return f"<{label}>"
