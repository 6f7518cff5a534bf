"""JSON-shaped values: the only values the store keeps, checked so that they round-trip exactly.

JSON itself would quietly turn tuples into lists, integer keys into strings and accept NaN; a
value that would not come back equal is refused instead, naming where it was found.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from llmspell.core.errors import ValidationError

ALLOWED = "null, booleans, numbers, strings, lists, and tables with string keys"

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")
)
_ASCII_ENCODER = json.JSONEncoder(
    ensure_ascii=True, allow_nan=False, check_circular=False, separators=(",", ":")
)
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def encode(value: Any, where: str) -> str:
    """Compact JSON text of ``value``; ``ValidationError`` naming ``where`` if it is not
    JSON-shaped.

    Strings holding lone surrogates (bytes that are not UTF-8, such as binary Lua strings,
    decoded with ``surrogateescape``) cannot be stored as UTF-8 text: such a value is written
    with ``\\u`` escapes instead, which decode back to the same string.
    """
    check(value, where)
    text = _ENCODER.encode(value)
    if not text.isascii():  # O(1) for ASCII text, the common case
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _ASCII_ENCODER.encode(value)
    return text


def encode_table(value: Any, where: str) -> str:
    """Like ``encode``, for values that must be a table (metadata, payloads, messages);
    ``None`` is the empty table."""
    if value is None:
        return "{}"
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where} must be a table, got {type(value).__name__}")
    return encode(dict(value), where)


def decode(text: str) -> Any:
    return json.loads(text)


def check(value: Any, where: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is JSON-shaped and round-trips unchanged."""
    try:
        if not _is_plain(value):
            _explain(value, where, "value")
    except RecursionError:
        raise ValidationError(f"{where}: value is nested too deeply (or contains itself)") from None


def _is_plain(value: Any) -> bool:
    """The fast check of exact built-in types, run on every save (plain loops: a generator per
    table costs more than the checks themselves)."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if type(item) not in _PLAIN_SCALARS and not _is_plain(item):
                return False
        return True
    if kind is list:
        for item in value:  # noqa: SIM110 (the generator all() needs is what this avoids)
            if type(item) not in _PLAIN_SCALARS and not _is_plain(item):
                return False
        return True
    return False


def _explain(value: Any, where: str, path: str) -> None:
    """The slow check: accept subclasses of the plain types, else name what is wrong."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{where}: {path} is {value!r}; JSON has no NaN or infinity")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    f"{where}: {path} has a key {key!r} of type {type(key).__name__}; "
                    "table keys must be strings"
                )
            _explain(item, where, f"{path}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _explain(item, where, f"{path}[{index}]")
        return
    raise ValidationError(f"{where}: {path} is a {type(value).__name__}; values must be {ALLOWED}")
