"""The table form of a workflow, shared by ``Workflow.sequential{...}`` & co., the builders and
workflow files: plain data in, a checked ``Workflow`` out. Errors name the workflow, the step
and the field."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, cast

from llmspell.core.errors import ValidationError
from llmspell.workflows.model import (
    STEP_KINDS,
    Branch,
    ErrorStrategy,
    RetryPolicy,
    Step,
    StepKind,
    Workflow,
    WorkflowType,
)
from llmspell.workflows.references import type_name
from llmspell.workflows.validation import check_workflow

WORKFLOW_FIELDS = frozenset(
    {
        "name",
        "description",
        "type",
        "steps",
        "body",
        "branches",
        "default",
        "iterations",
        "range",
        "collection",
        "while",
        "while_condition",
        "break_condition",
        "max_iterations",
        "error_strategy",
        "retry",
        "timeout",
        "max_concurrency",
        "shared",
        "shared_data",
    }
)
STEP_FIELDS = frozenset(
    {
        "name",
        "type",
        "tool",
        "agent",
        "workflow",
        "fn",
        "input",
        "timeout",
        "error_strategy",
        "retry",
    }
)
BRANCH_FIELDS = frozenset({"name", "condition", "steps"})
RETRY_FIELDS = frozenset({"max_attempts", "backoff_ms", "multiplier"})
_ALIASES = (("steps", "body"), ("while_condition", "while"), ("shared", "shared_data"))


def workflow_from_dict(data: Mapping[str, Any], *, default_type: str | None = None) -> Workflow:
    """Build and check a workflow from its table form.

    ``default_type`` is the type when ``data`` has no ``type`` (``Workflow.loop{...}`` passes
    ``"loop"``); without either the workflow is sequential.
    """
    workflow = _parse_workflow(data, default_type)
    check_workflow(workflow)
    return workflow


def _parse_workflow(data: Any, default_type: str | None, label: str = "workflow") -> Workflow:
    if isinstance(data, Workflow):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError(f"{label} must be a table, got {type_name(data)}")
    name = data.get("name", "workflow")
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{label}: field 'name' must be a non-empty string")
    where = f"workflow '{name}'"
    _reject_unknown(data, WORKFLOW_FIELDS, where)
    for first, second in _ALIASES:
        if first in data and second in data:
            raise ValidationError(f"{where}: give '{first}' or '{second}', not both")
    counter = itertools.count(1)  # numbers unnamed steps step_<N> in definition order
    strategy, retry = _strategy(data, where)
    return Workflow(
        name=name,
        type=cast(
            WorkflowType, _text(data.get("type", default_type or "sequential"), where, "type")
        ),
        description=_text(data.get("description", ""), where, "description"),
        steps=_steps(data.get("steps", data.get("body")), where, "steps", counter),
        branches=_branches(data.get("branches"), where, counter),
        default=_steps(data.get("default"), where, "default", counter),
        iterations=_integer(data.get("iterations"), where, "iterations"),
        range=_range(data.get("range"), where),
        collection=_collection(data.get("collection"), where),
        while_condition=data.get("while_condition", data.get("while")),
        break_condition=data.get("break_condition"),
        max_iterations=_integer(data.get("max_iterations"), where, "max_iterations"),
        error_strategy=strategy or "fail_fast",
        retry=retry,
        timeout=_number(data.get("timeout"), where, "timeout"),
        max_concurrency=_integer(data.get("max_concurrency"), where, "max_concurrency"),
        shared=dict(_table(data.get("shared", data.get("shared_data")), where, "shared")),
    )


def step_from_dict(
    data: Mapping[str, Any] | Step, *, where: str = "workflow", position: int = 1
) -> Step:
    """Build one step from its table form (not checked in its workflow's context)."""
    if isinstance(data, Step):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where}, step {position} must be a table, got {type_name(data)}")
    name = data.get("name", f"step_{position}")
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{where}, step {position}: field 'name' must be a non-empty string")
    here = f"{where}, step '{name}'"
    _reject_unknown(data, STEP_FIELDS, here)
    strategy, retry = _strategy(data, here)
    kind = _kind(data, here)
    tool = data.get("tool")
    if tool is not None:
        tool = _text(tool, here, "tool")
    nested = data.get("workflow")
    return Step(
        name=name,
        kind=kind,
        tool=tool,
        agent=data.get("agent"),
        workflow=None
        if nested is None
        else _parse_workflow(nested, None, f"{here}, field 'workflow'"),
        fn=data.get("fn"),
        input=data.get("input"),
        timeout=_number(data.get("timeout"), here, "timeout"),
        error_strategy=strategy,
        retry=retry,
    )


def _kind(data: Mapping[str, Any], where: str) -> StepKind:
    kind = data.get("type")
    if kind is None:
        present = [k for k in ("tool", "agent", "workflow", "fn") if data.get(k) is not None]
        if len(present) != 1:
            raise ValidationError(
                f"{where}: field 'type' is missing (one of {', '.join(STEP_KINDS)})"
            )
        kind = "function" if present[0] == "fn" else present[0]
    if kind not in STEP_KINDS:
        raise ValidationError(
            f"{where}: field 'type' must be one of {', '.join(STEP_KINDS)}, got {kind!r}"
        )
    return cast(StepKind, kind)


def _steps(value: Any, where: str, field: str, counter: Iterator[int]) -> list[Step]:
    items = _list(value, where, field)
    return [step_from_dict(item, where=where, position=next(counter)) for item in items]


def _branches(value: Any, where: str, counter: Iterator[int]) -> list[Branch]:
    branches = []
    for position, item in enumerate(_list(value, where, "branches"), 1):
        if isinstance(item, Branch):
            branches.append(item)
            continue
        label = f"{where}, branch {position}"
        if not isinstance(item, Mapping):
            raise ValidationError(f"{label} must be a table, got {type_name(item)}")
        _reject_unknown(item, BRANCH_FIELDS, label)
        name = item.get("name")
        if name is not None:
            name = _text(name, label, "name")
        branches.append(
            Branch(
                steps=_steps(item.get("steps"), label, "steps", counter),
                condition=item.get("condition"),
                name=name,
            )
        )
    return branches


def _strategy(
    data: Mapping[str, Any], where: str
) -> tuple[ErrorStrategy | None, RetryPolicy | None]:
    """``error_strategy`` as a name, ``{retry={...}}`` or ``{type="retry", ...}``, and the
    ``retry`` policy."""
    value = data.get("error_strategy")
    retry = _retry(data.get("retry"), where, "retry")
    if value is None or isinstance(value, str):
        return cast(ErrorStrategy | None, value), retry
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{where}: field 'error_strategy' must be a string or a table, got {type_name(value)}"
        )
    if "retry" in value and len(value) == 1:
        settings = value["retry"]
    elif value.get("type") == "retry":
        settings = {k: v for k, v in value.items() if k != "type"}
    else:
        raise ValidationError(
            f"{where}: field 'error_strategy' as a table must be {{retry={{...}}}} or "
            "{type='retry', ...}"
        )
    return "retry", _retry(settings, where, "error_strategy.retry") or retry or RetryPolicy()


def _retry(value: Any, where: str, field: str) -> RetryPolicy | None:
    if value is None:
        return None
    table = _table(value, where, field)
    _reject_unknown(table, RETRY_FIELDS, f"{where}, field '{field}'")
    defaults = RetryPolicy()
    attempts = _integer(table.get("max_attempts"), where, f"{field}.max_attempts")
    backoff = _number(table.get("backoff_ms"), where, f"{field}.backoff_ms")
    multiplier = _number(table.get("multiplier"), where, f"{field}.multiplier")
    return RetryPolicy(
        max_attempts=defaults.max_attempts if attempts is None else attempts,
        backoff_ms=defaults.backoff_ms if backoff is None else backoff,
        multiplier=defaults.multiplier if multiplier is None else multiplier,
    )


def _range(value: Any, where: str) -> tuple[int, int, int] | None:
    """``{start, stop, step?}`` (``end`` also accepted) or ``[start, stop, step?]``."""
    if value is None:
        return None
    if isinstance(value, list | tuple) and len(value) in (2, 3):
        parts = list(value) + [1] * (3 - len(value))
    elif isinstance(value, Mapping):
        _reject_unknown(
            value, frozenset({"start", "stop", "end", "step"}), f"{where}, field 'range'"
        )
        parts = [value.get("start", 1), value.get("stop", value.get("end")), value.get("step", 1)]
    else:
        raise ValidationError(f"{where}: field 'range' must be {{start, stop, step}}")
    numbers = [
        _integer(part, where, f"range.{label}")
        for part, label in zip(parts, ("start", "stop", "step"), strict=True)
    ]
    if any(number is None for number in numbers):
        raise ValidationError(f"{where}: field 'range' needs 'start' and 'stop'")
    start, stop, step = (cast(int, number) for number in numbers)
    return start, stop, step


def _collection(value: Any, where: str) -> Any:
    if isinstance(value, Mapping) and not value:
        return []
    if value is None or isinstance(value, str | list | tuple):
        return list(value) if isinstance(value, tuple) else value
    raise ValidationError(
        f"{where}: field 'collection' must be a list or a reference, got {type_name(value)}"
    )


def _reject_unknown(data: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValidationError(
            f"{where}: unknown field '{unknown[0]}' (known fields: {', '.join(sorted(known))})"
        )


def _list(value: Any, where: str, field: str) -> list[Any]:
    """A list field; an empty table (``{}`` from Lua) counts as an empty list."""
    if value is None or (isinstance(value, Mapping) and not value):
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where}: field '{field}' must be a list, got {type_name(value)}")
    return list(value)


def _table(value: Any, where: str, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: field '{field}' must be a table, got {type_name(value)}")
    return value


def _text(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{where}: field '{field}' must be a string, got {type_name(value)}")
    return value


def _number(value: Any, where: str, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{where}: field '{field}' must be a number, got {type_name(value)}")
    return float(value)


def _integer(value: Any, where: str, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{where}: field '{field}' must be an integer, got {type_name(value)}"
        )
    return value
