"""Step references: ``{{input.x}}``, ``{{steps.<name>.output.<path>}}``,
``{{step_<N>_output.<path>}}`` and ``{{state.<key>}}`` inside step inputs, plus
``{{loop.item.<path>}}`` and ``{{loop.iteration}}`` in the body of a loop.

A string that is exactly one reference takes the referenced value with its type; references
embedded in longer text are replaced by their string form (JSON for tables, numbers and
booleans). Other ``{{...}}`` text (e.g. a template for a templating tool) is left alone.
Path segments are table keys, or 1-based positions in lists (as in Lua).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from llmspell_utils.jsonutil import dumps

_REFERENCE = re.compile(
    r"\{\{\s*((?:input|steps|state|loop|step_\d+_output)(?:\.[^{}\s]*)?)\s*\}\}"
)
_STEP_N = re.compile(r"step_(\d+)_output")
LOOP_KEYS = ("item", "iteration")


@dataclass(frozen=True)
class Reference:
    """One parsed reference. ``step`` is set for ``steps.<name>``, ``index`` (1-based) for
    ``step_<N>_output``, ``key`` for ``state.<key>`` and ``loop.<key>``; ``path`` walks into
    the value."""

    text: str
    root: Literal["input", "step", "state", "loop"]
    path: tuple[str, ...] = ()
    step: str | None = None
    index: int | None = None
    key: str | None = None


class BadReference(ValueError):
    """A reference that cannot be parsed or resolved; the caller adds the step name."""


Lookup = Callable[[Reference], Any]


def parse_reference(text: str, expression: str) -> Reference:
    """Parse the inside of ``{{...}}`` (``expression``); ``text`` is the reference as written."""
    parts = expression.split(".")
    head, rest = parts[0], parts[1:]
    if any(not part for part in rest):
        raise BadReference(f"reference '{text}' has an empty path segment")
    if head == "input":
        return Reference(text, "input", tuple(rest))
    if head == "state":
        if not rest:
            raise BadReference(f"reference '{text}' must name a key: {{{{state.<key>}}}}")
        return Reference(text, "state", tuple(rest[1:]), key=rest[0])
    if head == "loop":
        if not rest or rest[0] not in LOOP_KEYS:
            raise BadReference(
                f"reference '{text}' must be {{{{loop.item.<path>}}}} or {{{{loop.iteration}}}}"
            )
        return Reference(text, "loop", tuple(rest[1:]), key=rest[0])
    if head == "steps":
        if len(rest) < 2 or rest[1] != "output":
            raise BadReference(
                f"reference '{text}' must have the form {{{{steps.<name>.output.<path>}}}}"
            )
        return Reference(text, "step", tuple(rest[2:]), step=rest[0])
    match = _STEP_N.fullmatch(head)
    if match is None or int(match.group(1)) < 1:
        raise BadReference(f"reference '{text}': step numbers start at 1")
    return Reference(text, "step", tuple(rest), index=int(match.group(1)))


def find_references(value: Any) -> Iterator[Reference]:
    """Every reference in the strings of ``value`` (walking tables), in order."""
    if isinstance(value, str):
        if "{{" in value:
            for match in _REFERENCE.finditer(value):
                yield parse_reference(match.group(0), match.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            yield from find_references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from find_references(item)


def resolve(value: Any, lookup: Lookup) -> Any:
    """``value`` with every reference replaced through ``lookup`` (tables are copied)."""
    if isinstance(value, str):
        return _resolve_string(value, lookup) if "{{" in value else value
    if isinstance(value, dict):
        return {key: resolve(item, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, lookup) for item in value]
    return value


def _resolve_string(text: str, lookup: Lookup) -> Any:
    whole = _REFERENCE.fullmatch(text)
    if whole is not None:
        return lookup(parse_reference(text, whole.group(1)))

    def replace(match: re.Match[str]) -> str:
        return stringify(lookup(parse_reference(match.group(0), match.group(1))))

    return _REFERENCE.sub(replace, text)


def stringify(value: Any) -> str:
    """The text an embedded reference becomes: strings as they are, other values as JSON."""
    if isinstance(value, str):
        return value
    try:
        return dumps(value)
    except (TypeError, ValueError):
        return str(value)


def walk(value: Any, path: Sequence[str], label: str) -> Any:
    """Follow ``path`` into ``value``; a missing key or position raises ``BadReference``
    whose message starts with ``label``."""
    for depth, segment in enumerate(path):
        where = ".".join(path[:depth]) or "the value"
        if isinstance(value, dict):
            if segment not in value:
                raise BadReference(f"{label}: no key '{segment}' in {where}")
            value = value[segment]
        elif isinstance(value, list | tuple):
            if not segment.isdigit() or not 1 <= int(segment) <= len(value):
                raise BadReference(
                    f"{label}: '{segment}' is not a position (1 to {len(value)}) in {where}"
                )
            value = value[int(segment) - 1]
        else:
            raise BadReference(
                f"{label}: cannot look up '{segment}' in {where}, which is {type_name(value)}"
            )
    return value


def type_name(value: Any) -> str:
    """How a Lua programmer would name the type of ``value``."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict | list | tuple):
        return "a table"
    return f"a {type(value).__name__}"
