"""A fast acceptance check for the JSON schemas tools usually declare.

``jsonschema`` walks a schema with a generic machinery that costs tens of microseconds even for
``{"type": "object", "properties": {"n": {"type": "integer"}}}``, more than a trivial tool call.
``compile_check`` turns a schema made only of the common keywords into a plain Python function
that answers "certainly valid" in a microsecond or two. It is one-sided on purpose: ``True``
means valid under Draft 2020-12 as ``jsonschema`` reads it; ``False`` means "not sure", and the
caller runs ``jsonschema`` (which also phrases the error). A schema using any other keyword
gets no check (``None``): ``jsonschema`` alone decides for it.

Values are matched by exact type (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``,
``None``): a subclass falls to ``jsonschema``. As in ``jsonschema``, ``format`` is an
annotation (no format checker is configured) and ``1.0`` is an integer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)
_KEYWORDS = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
}
_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
_PLAIN = frozenset({dict, list, str, int, float, bool, type(None)})
"""The exact types of JSON values; a value of any other type is left to ``jsonschema``."""
_NUMBER_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


class _Unsupported(Exception):
    """The schema uses something this module does not check."""


def compile_check(schema: Any) -> Check | None:
    """A function telling values ``schema`` certainly accepts, or ``None`` when the schema
    uses keywords (or forms of them) beyond the common ones listed in ``_KEYWORDS``."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _compile(schema: Any) -> Check:
    if schema is True or (isinstance(schema, Mapping) and not schema):
        return _anything
    if not isinstance(schema, Mapping) or not set(schema) <= _KEYWORDS:
        raise _Unsupported
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type_check(schema["type"]))
    if "enum" in schema:
        checks.append(_enum_check(schema["enum"]))
    if any(key in schema for key in ("properties", "required", "additionalProperties")):
        checks.append(_object_check(schema))
    if "items" in schema:
        checks.append(_items_check(_compile(schema["items"])))
    numbers = [_number_bound(key, schema[key]) for key in _NUMBER_BOUNDS if key in schema]
    if numbers:
        checks.append(_when(_is_number, numbers))
    lengths = _length_checks(schema, "minLength", "maxLength")
    if "pattern" in schema:
        lengths.append(_pattern_check(schema["pattern"]))
    if lengths:
        checks.append(_when(lambda value: type(value) is str, lengths))
    sizes = _length_checks(schema, "minItems", "maxItems")
    if sizes:
        checks.append(_when(lambda value: type(value) is list, sizes))
    return _all(checks)


def _anything(value: Any) -> bool:
    return True


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _anything
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:  # the usual pair, "type" and one more keyword
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(check(value) for check in checks)


def _when(applies: Check, checks: list[Check]) -> Check:
    """Checks that apply to one kind of value only (other JSON values pass them, as in JSON
    schema: ``minimum`` says nothing about a string)."""
    combined = _all(checks)
    return lambda value: combined(value) if applies(value) else type(value) in _PLAIN


def _type_check(spec: Any) -> Check:
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list) or not names or not all(n in _TYPES for n in names):
        raise _Unsupported
    wanted = frozenset(names)
    exact: set[type] = set()
    for name, kinds in (
        ("object", (dict,)),
        ("array", (list,)),
        ("string", (str,)),
        ("integer", (int,)),
        ("number", (int, float)),
        ("boolean", (bool,)),
        ("null", (type(None),)),
    ):
        if name in wanted:
            exact.update(kinds)
    frozen = frozenset(exact)
    if "integer" in wanted and float not in frozen:
        return lambda value: type(value) in frozen or (type(value) is float and value.is_integer())
    return lambda value: type(value) in frozen


def _enum_check(values: Any) -> Check:
    """Strings and integers are matched here; any other value (``1.0`` equals ``1`` for
    ``jsonschema``, ``true`` does not) is left to ``jsonschema``."""
    if not isinstance(values, list) or not values:
        raise _Unsupported
    allowed = frozenset(v for v in values if type(v) is str or type(v) is int)
    return lambda value: (type(value) is str or type(value) is int) and value in allowed


def _object_check(schema: Mapping[str, Any]) -> Check:
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if not isinstance(properties, Mapping) or not all(isinstance(k, str) for k in properties):
        raise _Unsupported
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise _Unsupported
    fields = {name: _compile(sub) for name, sub in properties.items()}
    if extra is True:
        others: Check | None = None
    elif extra is False:
        others = None
    else:
        others = _compile(extra)
    closed = extra is False
    needed = tuple(required)

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return type(value) in _PLAIN  # not an object: these keywords do not apply
        for name in needed:
            if name not in value:
                return False
        for key, item in value.items():
            field = fields.get(key)
            if field is not None:
                if not field(item):
                    return False
            elif closed or (others is not None and not others(item)):
                return False
        return True

    return check


def _items_check(item_check: Check) -> Check:
    def check(value: Any) -> bool:
        if type(value) is not list:
            return type(value) in _PLAIN
        return all(item_check(item) for item in value)

    return check


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def _number_bound(key: str, bound: Any) -> Check:
    if type(bound) not in (int, float):
        raise _Unsupported
    if key == "minimum":
        return lambda value: bool(value >= bound)
    if key == "maximum":
        return lambda value: bool(value <= bound)
    if key == "exclusiveMinimum":
        return lambda value: bool(value > bound)
    return lambda value: bool(value < bound)


def _length_checks(schema: Mapping[str, Any], low: str, high: str) -> list[Check]:
    checks: list[Check] = []
    for key in (low, high):
        if key in schema:
            limit = schema[key]
            if type(limit) is not int or limit < 0:
                raise _Unsupported
            checks.append(_at_least(limit) if key == low else _at_most(limit))
    return checks


def _at_least(limit: int) -> Check:
    return lambda value: len(value) >= limit


def _at_most(limit: int) -> Check:
    return lambda value: len(value) <= limit


def _pattern_check(pattern: Any) -> Check:
    if not isinstance(pattern, str):
        raise _Unsupported
    try:
        compiled = re.compile(pattern)
    except re.error:
        raise _Unsupported from None
    return lambda value: compiled.search(value) is not None
