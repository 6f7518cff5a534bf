"""Structural checks of a workflow definition, run when it is built.

They catch at build time what can be known then: step names, the fields each step kind and
workflow type needs, loop sources, conditions, and references to steps that do not run before
the step that uses them. ``{{input...}}`` and ``{{state...}}`` are checked at run time.
"""

from __future__ import annotations

from llmspell.core.errors import ValidationError
from llmspell.workflows.conditions import check_condition
from llmspell.workflows.model import (
    ERROR_STRATEGIES,
    STEP_KINDS,
    WORKFLOW_TYPES,
    RetryPolicy,
    Step,
    Workflow,
)
from llmspell.workflows.references import BadReference, find_references

_FORBIDDEN_IN_NAMES = (".", "{", "}")
_LOOP_SOURCES = ("iterations", "range", "collection", "while")


def check_workflow(workflow: Workflow, _enclosing: tuple[str, ...] = ()) -> None:
    """Raise ``ValidationError`` naming the workflow, the step and the field at fault."""
    if not isinstance(workflow.name, str) or not workflow.name:
        raise ValidationError("workflow: field 'name' must be a non-empty string")
    where = f"workflow '{workflow.name}'"
    if workflow.id in _enclosing:
        raise ValidationError(f"{where} contains itself as a nested workflow")
    if workflow.type not in WORKFLOW_TYPES:
        raise ValidationError(
            f"{where}: field 'type' must be one of {', '.join(WORKFLOW_TYPES)}, "
            f"got {workflow.type!r}"
        )
    _check_settings(workflow, where)
    _check_shape(workflow, where)
    steps = workflow.all_steps()
    ordered = [step.name for step in steps]
    seen: set[str] = set()
    for step in steps:
        _check_name(step, where)
        if step.name in seen:
            raise ValidationError(f"{where}: two steps are named '{step.name}'")
        seen.add(step.name)
    for sequence in sequences(workflow):
        visible: set[str] = set()
        for step in sequence:
            _check_step(
                step, f"{where}, step '{step.name}'", visible, ordered, workflow.type == "loop"
            )
            if step.kind == "workflow" and step.workflow is not None:
                check_workflow(step.workflow, (*_enclosing, workflow.id))
            visible.add(step.name)
    _check_conditions(workflow, where, seen)


def sequences(workflow: Workflow) -> list[list[Step]]:
    """The runs of steps executed one after the other; a step sees the outputs of the steps
    before it in its own sequence."""
    if workflow.type == "parallel":
        return [[step] for step in workflow.steps] + [b.steps for b in workflow.branches]
    if workflow.type == "conditional":
        return [b.steps for b in workflow.branches] + [workflow.default]
    return [workflow.steps]


def _check_settings(workflow: Workflow, where: str) -> None:
    if workflow.error_strategy not in ERROR_STRATEGIES:
        raise ValidationError(
            f"{where}: field 'error_strategy' must be one of {', '.join(ERROR_STRATEGIES)}, "
            f"got {workflow.error_strategy!r}"
        )
    if workflow.retry is not None:
        _check_retry(workflow.retry, where)
    _check_positive(workflow.timeout, f"{where}: field 'timeout'")
    if workflow.max_concurrency is not None and workflow.max_concurrency < 1:
        raise ValidationError(f"{where}: field 'max_concurrency' must be at least 1")
    if workflow.max_iterations is not None and workflow.max_iterations < 1:
        raise ValidationError(f"{where}: field 'max_iterations' must be at least 1")


def _check_shape(workflow: Workflow, where: str) -> None:
    kind = workflow.type
    if kind in ("sequential", "loop") and workflow.branches:
        raise ValidationError(f"{where}: a {kind} workflow has no field 'branches'")
    if kind != "conditional" and workflow.default:
        raise ValidationError(f"{where}: only a conditional workflow has the field 'default'")
    sources = [name for name in _LOOP_SOURCES if _loop_source(workflow, name) is not None]
    if kind != "loop":
        extra = sources + (["break_condition"] if workflow.break_condition is not None else [])
        if extra:
            raise ValidationError(f"{where}: only a loop workflow has the field '{extra[0]}'")
    if kind == "sequential" and not workflow.steps:
        raise ValidationError(f"{where}: field 'steps' must hold at least one step")
    if kind == "parallel" and not (workflow.steps or workflow.branches):
        raise ValidationError(f"{where}: a parallel workflow needs 'steps' or 'branches'")
    if kind == "conditional":
        if workflow.steps:
            raise ValidationError(
                f"{where}: a conditional workflow has 'branches' and 'default', not 'steps'"
            )
        if not workflow.branches:
            raise ValidationError(f"{where}: field 'branches' must hold at least one branch")
    if kind == "loop":
        if not workflow.steps:
            raise ValidationError(f"{where}: field 'body' must hold at least one step")
        if len(sources) != 1:
            raise ValidationError(
                f"{where}: a loop needs exactly one of 'iterations', 'range', 'collection' or "
                f"'while', got {', '.join(sources) or 'none'}"
            )
        _check_loop_source(workflow, where)


def _loop_source(workflow: Workflow, name: str) -> object:
    return {
        "iterations": workflow.iterations,
        "range": workflow.range,
        "collection": workflow.collection,
        "while": workflow.while_condition,
    }[name]


def _check_loop_source(workflow: Workflow, where: str) -> None:
    if workflow.iterations is not None and workflow.iterations < 0:
        raise ValidationError(f"{where}: field 'iterations' must not be negative")
    if workflow.range is not None and workflow.range[2] == 0:
        raise ValidationError(f"{where}: field 'range' must have a non-zero step")
    collection = workflow.collection
    if collection is not None:
        if isinstance(collection, str):
            try:
                references = list(find_references(collection))
            except BadReference as exc:
                raise ValidationError(f"{where}: field 'collection': {exc}") from None
            if len(references) != 1 or references[0].text != collection.strip():
                raise ValidationError(
                    f"{where}: field 'collection' must be a list or one reference such as "
                    "'{{input.items}}'"
                )
            if references[0].root == "step":
                raise ValidationError(
                    f"{where}: field 'collection' cannot refer to the loop's own steps"
                )
        elif not isinstance(collection, list | tuple):
            raise ValidationError(f"{where}: field 'collection' must be a list")


def _check_conditions(workflow: Workflow, where: str, step_names: set[str]) -> None:
    for position, branch in enumerate(workflow.branches, 1):
        label = f"{where}, branch {branch.name or position}"
        if workflow.type == "conditional":
            check_condition(branch.condition, f"{label}, field 'condition'", step_names)
        elif branch.condition is not None:
            raise ValidationError(f"{label}: a parallel branch has no field 'condition'")
    if workflow.while_condition is not None:
        check_condition(workflow.while_condition, f"{where}, field 'while'", step_names)
    if workflow.break_condition is not None:
        check_condition(workflow.break_condition, f"{where}, field 'break_condition'", step_names)


def _check_name(step: Step, where: str) -> None:
    if not isinstance(step.name, str) or not step.name:
        raise ValidationError(f"{where}: a step has no name (field 'name')")
    bad = [char for char in _FORBIDDEN_IN_NAMES if char in step.name]
    if bad:
        raise ValidationError(
            f"{where}: step name '{step.name}' must not contain '{bad[0]}' (field 'name')"
        )


def _check_step(
    step: Step, where: str, visible: set[str], ordered: list[str], in_loop: bool
) -> None:
    if step.kind not in STEP_KINDS:
        raise ValidationError(
            f"{where}: field 'type' must be one of {', '.join(STEP_KINDS)}, got {step.kind!r}"
        )
    field_name = "fn" if step.kind == "function" else step.kind
    value = getattr(step, field_name)
    if value is None or (step.kind == "tool" and (not isinstance(value, str) or not value)):
        raise ValidationError(
            f"{where}: field '{field_name}' is required in a step of type '{step.kind}'"
        )
    if step.kind == "workflow" and not isinstance(value, Workflow):
        raise ValidationError(f"{where}: field 'workflow' must be a workflow")
    _check_positive(step.timeout, f"{where}: field 'timeout'")
    if step.error_strategy is not None and step.error_strategy not in ERROR_STRATEGIES:
        raise ValidationError(
            f"{where}: field 'error_strategy' must be one of {', '.join(ERROR_STRATEGIES)}, "
            f"got {step.error_strategy!r}"
        )
    if step.retry is not None:
        _check_retry(step.retry, where)
    check_step_references(step, where, visible, ordered, in_loop)


def check_step_references(
    step: Step, where: str, visible: set[str], ordered: list[str], in_loop: bool
) -> None:
    """Every step reference in ``step.input`` must name a step in ``visible`` (the steps that
    run before it); ``ordered`` numbers the steps for ``{{step_<N>_output}}``. ``{{loop...}}``
    references need ``in_loop``."""
    try:
        references = list(find_references(step.input))
    except BadReference as exc:
        raise ValidationError(f"{where}: field 'input': {exc}") from None
    for reference in references:
        if reference.root == "loop" and not in_loop:
            raise ValidationError(
                f"{where}: reference '{reference.text}' is only known in the body of a loop"
            )
        if reference.root != "step":
            continue
        name = reference.step
        if reference.index is not None:
            if reference.index > len(ordered):
                raise ValidationError(
                    f"{where}: unknown reference '{reference.text}': the workflow has "
                    f"{len(ordered)} steps"
                )
            name = ordered[reference.index - 1]
        if name not in visible:
            reason = "does not run before it" if name in ordered else "does not exist"
            raise ValidationError(
                f"{where}: unknown reference '{reference.text}': step '{name}' {reason}"
            )


def _check_retry(policy: RetryPolicy, where: str) -> None:
    if policy.max_attempts < 1:
        raise ValidationError(f"{where}: field 'retry.max_attempts' must be at least 1")
    if policy.backoff_ms < 0:
        raise ValidationError(f"{where}: field 'retry.backoff_ms' must not be negative")
    if policy.multiplier < 1:
        raise ValidationError(f"{where}: field 'retry.multiplier' must be at least 1")


def _check_positive(value: float | None, label: str) -> None:
    if value is not None and not value > 0:
        raise ValidationError(f"{label} must be a positive number of seconds, got {value!r}")
