"""Encoding checkpoint records as JSON text.

A step's output is whatever the step returned: a value that does not round-trip exactly through
JSON (integer table keys, tuples, NaN, objects JSON has no form for) is stored the way JSON
writes it (keys become strings, objects their text) rather than failing the run. So unlike the
state store, nothing is checked before encoding: the C encoder runs once per record.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def encode_value(value: Any) -> str:
    """Compact JSON of ``value``: exact when it is JSON-shaped, else as JSON writes it.

    Strings holding lone surrogates (bytes that are not UTF-8, decoded with
    ``surrogateescape``) cannot be stored as UTF-8 text: such a value is written with ``\\u``
    escapes instead, which decode back to the same string.
    """
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError):  # an object JSON has no form for, NaN or infinity
        return _as_json_writes_it(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _as_json_writes_it(value)
    return text


def _as_json_writes_it(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
