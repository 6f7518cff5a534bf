"""JSON and TOML with one set of conventions.

JSON output is deterministic (sorted keys, compact separators, UTF-8 text kept as is) so equal
data gives equal strings, which makes hashes, caches and test snapshots stable. NaN and
infinities are refused both ways: they are not JSON and other parsers reject them.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from typing import Any

_COMPACT = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
)
_PRETTY = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, allow_nan=False, indent=2, separators=(",", ": ")
)
"""Built once: ``json.dumps`` with options builds an encoder per call, which costs more than
encoding a small value (audit records and hashes encode one per call)."""


def dumps(value: Any, *, pretty: bool = False) -> str:
    """``value`` as JSON: keys sorted, non-ASCII kept, compact unless ``pretty`` (2-space indent).

    Raises ``ValueError`` for NaN or infinite floats and ``TypeError`` for values JSON cannot hold.
    """
    return (_PRETTY if pretty else _COMPACT).encode(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON: {name} is not a JSON value")


def loads(text: str | bytes) -> Any:
    """Parse JSON text. Errors are ``ValueError`` naming the line and column."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def loads_toml(text: str) -> dict[str, Any]:
    """Parse TOML text. Errors are ``ValueError`` naming the line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML: {exc}") from None


def load_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and parse a TOML file. Parse errors are ``ValueError`` naming the file."""
    with open(path, "rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{os.fspath(path)}: invalid TOML: {exc}") from None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dump_toml(data: Mapping[str, Any]) -> str:
    """Write plain data as TOML: tables, arrays, strings, integers, floats and booleans.

    Keys keep their order. Mappings become ``[tables]``, lists of mappings ``[[arrays of
    tables]]`` (inline ``{...}`` tables inside other arrays). ``None`` values in a table are left
    out, since TOML has no null; any other type raises ``TypeError`` naming its key.
    """
    lines: list[str] = []
    _write_table(lines, data, ())
    return "\n".join(lines).lstrip("\n") + "\n" if lines else ""


def _write_table(lines: list[str], table: Mapping[str, Any], path: tuple[str, ...]) -> None:
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays_of_tables: list[tuple[str, list[Any]]] = []
    for key, value in table.items():
        _check_key(key, path)
        if value is None:
            continue
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif _is_array_of_tables(value):
            arrays_of_tables.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value, (*path, key))}")
    for key, sub in tables:
        sub_path = (*path, key)
        present = [v for v in sub.values() if v is not None]
        if not present or any(_is_key_value(v) for v in present):
            lines.extend(["", f"[{_dotted(sub_path)}]"])
        _write_table(lines, sub, sub_path)
    for key, items in arrays_of_tables:
        sub_path = (*path, key)
        for item in items:
            lines.extend(["", f"[[{_dotted(sub_path)}]]"])
            _write_table(lines, item, sub_path)


def _is_key_value(value: Any) -> bool:
    """Whether ``value`` is written as ``key = value`` (not under a header of its own)."""
    return not isinstance(value, Mapping) and not _is_array_of_tables(value)


def _is_array_of_tables(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) > 0
        and all(isinstance(item, Mapping) for item in value)
    )


def _check_key(key: Any, path: tuple[str, ...]) -> None:
    if not isinstance(key, str):
        where = _dotted(path) or "the top level"
        raise TypeError(f"TOML keys must be strings: got {key!r} in {where}")


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(_key(part) for part in path)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value: Any, path: tuple[str, ...]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item, path) for item in value) + "]"
    if isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            _check_key(key, path)
            if item is not None:
                parts.append(f"{_key(key)} = {_value(item, (*path, key))}")
        return "{" + ", ".join(parts) + "}"
    where = _dotted(path)
    raise TypeError(f"cannot write {type(value).__name__} as TOML (key '{where}')")
