"""Conditions: which conditional branch runs, whether a while-loop goes on, when a loop breaks.

A condition is either a function of ``ctx`` (a Python callable or a script function handle,
run through ``StepServices.call_function``) or a table:

- ``{type="always"}`` / ``{type="never"}``
- ``{type="shared_data_equals", key, value}``
- ``{type="step_output_equals", step, path?, value}`` (``path`` walks into the output)
- ``{type="input_equals", path?, value}``
- ``{type="and"|"or", conditions={...}}``, ``{type="not", condition=...}``, or the short forms
  ``{["and"]={...}}``, ``{["or"]={...}}``, ``{["not"]=...}``.

A function's result counts as true unless it is ``nil``/``None`` or ``false`` (Lua truth).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from llmspell.core.errors import ValidationError
from llmspell.workflows.references import BadReference, type_name, walk

CONDITION_TYPES = (
    "always",
    "never",
    "shared_data_equals",
    "step_output_equals",
    "input_equals",
    "and",
    "or",
    "not",
)

_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "always": (frozenset(), frozenset()),
    "never": (frozenset(), frozenset()),
    "shared_data_equals": (frozenset({"key"}), frozenset({"value"})),
    "step_output_equals": (frozenset({"step"}), frozenset({"path", "value"})),
    "input_equals": (frozenset(), frozenset({"path", "value"})),
    "and": (frozenset({"conditions"}), frozenset()),
    "or": (frozenset({"conditions"}), frozenset()),
    "not": (frozenset({"condition"}), frozenset()),
}
"""For each table form: its required fields and its optional ones (besides ``type``)."""

_SHORT_FORMS = {"and": "conditions", "or": "conditions", "not": "condition"}

CallFunction = Callable[[Any, dict[str, Any]], Awaitable[Any]]


def normalize_condition(condition: dict[str, Any], where: str) -> dict[str, Any]:
    """The ``{type=..., ...}`` form of a table condition; raises ``ValidationError``."""
    if "type" not in condition:
        short = [key for key in _SHORT_FORMS if key in condition]
        if len(short) != 1 or len(condition) != 1:
            raise ValidationError(
                f"{where}: a condition table needs a 'type' (one of {', '.join(CONDITION_TYPES)})"
            )
        return {"type": short[0], _SHORT_FORMS[short[0]]: condition[short[0]]}
    ctype = condition["type"]
    if ctype not in _FIELDS:
        raise ValidationError(
            f"{where}: unknown condition type {ctype!r} (expected one of "
            f"{', '.join(CONDITION_TYPES)})"
        )
    return condition


def check_condition(condition: Any, where: str, step_names: Collection[str]) -> None:
    """Raise ``ValidationError`` (naming ``where`` and the field) if ``condition`` is malformed
    or tests a step that ``step_names`` does not hold."""
    if condition is None:
        raise ValidationError(f"{where}: a condition is required")
    if not isinstance(condition, dict):
        return
    form = normalize_condition(condition, where)
    ctype = form["type"]
    required, optional = _FIELDS[ctype]
    fields = set(form) - {"type"}
    missing = sorted(required - fields)
    if missing:
        raise ValidationError(f"{where}: a '{ctype}' condition needs the field '{missing[0]}'")
    unknown = sorted(fields - required - optional)
    if unknown:
        raise ValidationError(f"{where}: unknown field '{unknown[0]}' in a '{ctype}' condition")
    for name in ("key", "step", "path"):
        if name in form and not isinstance(form[name], str):
            raise ValidationError(
                f"{where}: field '{name}' of a '{ctype}' condition must be a string, "
                f"got {type_name(form[name])}"
            )
    if ctype == "step_output_equals" and form["step"] not in step_names:
        raise ValidationError(f"{where}: condition tests unknown step '{form['step']}'")
    if ctype in ("and", "or"):
        operands = form["conditions"]
        if not isinstance(operands, list) or not operands:
            raise ValidationError(f"{where}: field 'conditions' of '{ctype}' must be a list")
        for position, operand in enumerate(operands, 1):
            check_condition(operand, f"{where}, {ctype}[{position}]", step_names)
    if ctype == "not":
        check_condition(form["condition"], f"{where}, not", step_names)


async def evaluate(condition: Any, ctx: dict[str, Any], call: CallFunction) -> bool:
    """Whether ``condition`` holds for ``ctx`` (``input``, ``outputs``, ``shared`` ...)."""
    if not isinstance(condition, dict):
        result = await call(condition, ctx)
        return result is not None and result is not False
    form = normalize_condition(condition, "condition")
    ctype: str = form["type"]
    if ctype in ("always", "never"):
        return ctype == "always"
    if ctype == "shared_data_equals":
        return bool(ctx["shared"].get(form["key"]) == form.get("value"))
    if ctype == "step_output_equals":
        outputs = ctx["outputs"]
        if form["step"] not in outputs:
            return False
        return _path_equals(outputs[form["step"]], form.get("path"), form.get("value"))
    if ctype == "input_equals":
        return _path_equals(ctx["input"], form.get("path"), form.get("value"))
    if ctype == "not":
        return not await evaluate(form["condition"], ctx, call)
    decisive = ctype == "or"  # the operand value that settles the result
    for operand in form["conditions"]:
        if await evaluate(operand, ctx, call) == decisive:
            return decisive
    return not decisive


def _path_equals(value: Any, path: str | None, expected: Any) -> bool:
    try:
        found = walk(value, path.split(".") if path else (), "condition")
    except BadReference:
        return False
    return bool(found == expected)
