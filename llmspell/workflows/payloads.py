"""Encoding checkpoint payloads without re-encoding what earlier checkpoints already held.

The executor checkpoints its whole progress after every step, so the n-th checkpoint of a run
repeats the outputs and step records of the steps before it. ``PayloadEncoder`` keeps the text
of each growing table and list of the payload (``outputs``, ``completed``, ``steps``,
``iterations``) and, while the entries it encoded are still there (same keys, same objects),
encodes only the entries added since; a table whose entries were replaced (loop outputs) is
rebuilt from the texts of the objects encoded before. ``input`` and ``final`` are reused while
they are the same objects. This relies on the executor replacing, never changing in place, the
values it has stored; ``shared`` data, which steps may change, is encoded every time.

A value that does not round-trip exactly through JSON (integer table keys, NaN) is stored the
way JSON writes it (keys become strings) rather than failing the run.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmspell.core.errors import ValidationError
from llmspell.state import values

_GROWING = frozenset({"outputs", "completed", "steps", "iterations"})
_BY_IDENTITY = frozenset({"input", "final"})
_SCALARS = (str, int, float, bool, type(None))
_CONSTANTS = {None: "null", True: "true", False: "false"}
_encode_string = json.encoder.encode_basestring  # the C encoder, keeping non-ASCII text as is


@dataclass
class _Joined:
    """The text of a table or list field as last encoded, and what it was made of."""

    source: Any
    keys: list[Any]
    items: list[Any]
    text: str


class PayloadEncoder:
    """Encodes the successive checkpoint payloads of one workflow run as JSON text."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[Any, str]] = {}
        self._keys: dict[str, str] = {}
        self._joined: dict[str, _Joined] = {}

    def encode(self, payload: Mapping[str, Any]) -> str:
        parts = []
        for key, value in payload.items():
            if key in _GROWING and type(value) in (dict, list):
                text = self._growing(key, value)
            elif key in _BY_IDENTITY:
                text = self._cached(value)
            else:
                text = encode_value(value)
            parts.append(f"{self._key(key)}:{text}")
        return "{" + ",".join(parts) + "}"

    def _growing(self, field: str, value: dict[Any, Any] | list[Any]) -> str:
        table = type(value) is dict
        keys = list(value) if table else []
        items = list(value.values()) if isinstance(value, dict) else list(value)
        previous = self._joined.get(field)
        if (
            previous is not None
            and previous.source is value
            and len(items) >= len(previous.items)
            and keys[: len(previous.keys)] == previous.keys
            and all(map(operator.is_, previous.items, items))
        ):
            done, text = len(previous.items), previous.text
        else:
            done, text = 0, ""
        fresh = self._entries(keys[done:], items[done:], table)
        if fresh:
            text = f"{text},{fresh}" if text else fresh
        self._joined[field] = _Joined(value, keys, items, text)
        return "{" + text + "}" if table else "[" + text + "]"

    def _entries(self, keys: list[Any], items: list[Any], table: bool) -> str:
        if table:
            return ",".join(
                f"{self._key(key)}:{self._cached(item)}"
                for key, item in zip(keys, items, strict=True)
            )
        return ",".join(self._cached(item) for item in items)

    def _key(self, key: Any) -> str:
        text = self._keys.get(key)
        if text is None:
            text = self._keys[key] = json.dumps(str(key), ensure_ascii=False)
        return text

    def _cached(self, value: Any) -> str:
        if isinstance(value, _SCALARS):
            return encode_value(value)
        hit = self._texts.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        text = encode_value(value)
        self._texts[id(value)] = (value, text)  # holding the value keeps its id from being reused
        return text


def encode_value(value: Any) -> str:
    """Compact JSON of ``value``: exact when it is JSON-shaped, else as JSON writes it."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return str(value)
    if value is None or kind is bool:
        return _CONSTANTS[value]
    try:
        return values.encode(value, "checkpoint")
    except ValidationError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
