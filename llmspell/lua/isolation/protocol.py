"""The messages between a run's host (the parent) and its worker process.

A message is a JSON object, sent as a 4-byte big-endian length and the UTF-8 text. Only plain
data crosses: ``None``, booleans, numbers, strings, lists and dicts of those. Lua strings are
bytes: they travel as text decoded with ``surrogateescape`` (JSON escapes the lone surrogates),
so every byte string arrives exactly. Values JSON cannot say directly are objects with the key
``"\\x00"``: ``{"\\x00": "null"}`` (``JSON.null``), ``{"\\x00": "fn", "id": n}`` (a Lua function,
by its handle in the worker), ``{"\\x00": "host", "i": n}`` (a host function, by index),
``{"\\x00": "map", "items": [k1, v1, k2, v2 ...]}`` (a table with integer keys, or keys starting
with ``"\\x00"``).

The parent does not trust what the worker sends (a script that broke out of the Lua VM would
write it): ``message_limit`` caps a message's length, ``unframe`` refuses a message with more
values than the run could send before parsing it (JSON parsing makes Python objects ~20× the
size of their text), and ``decode`` bounds depth and table entries as the worker's converter
does.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from typing import Any

from llmspell.core.errors import LlmspellError, ValidationError
from llmspell.lua.convert import JSON_NULL, LuaFunctionRef

TAG = "\x00"
HEADER = struct.Struct(">I")
MAX_MESSAGE = 1 << 30
"""No message is longer, whatever the limits (the length prefix is checked before reading)."""

MIN_MESSAGE_LIMIT = 4 << 20
MAX_MESSAGE_LIMIT = 64 << 20

DEFAULT_MAX_DEPTH = 200
"""Nesting ``decode`` accepts when the caller gives no limit (data from the trusted parent)."""

_STRING = re.compile(rb'"[^"]*+"')


class ProtocolError(Exception):
    """A message that breaks the protocol (its sender cannot be trusted any more)."""


class RemoteError(LlmspellError):
    """An error the other side reported: its message is already ``Kind: text``."""

    def lua_message(self) -> str:
        return str(self)


def message_limit(memory_bytes: int) -> int:
    """The longest message of a run whose Lua memory limit is ``memory_bytes``: twice that
    limit, from 4 MiB to 64 MiB."""
    return min(max(2 * memory_bytes, MIN_MESSAGE_LIMIT), MAX_MESSAGE_LIMIT)


def frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return HEADER.pack(len(data)) + data


def unframe(data: bytes, max_values: int | None = None) -> dict[str, Any]:
    """The message in ``data``; with ``max_values``, a message holding more values than that is
    refused before it is parsed."""
    if max_values is not None and structure_count(data, max_values) > max_values:
        raise ProtocolError(f"a message with more than {max_values} values")
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"unreadable message: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("a message must be an object with a type")
    return message


def structure_count(data: bytes, limit: int) -> int:
    """Commas and opening brackets of JSON text ``data`` outside its strings: each value but
    the first of a container follows a comma, each container opens with a bracket, so this
    bounds the number of values parsing makes. Counted at C speed; characters inside strings
    are left out only when the plain count passes ``limit``."""
    count = data.count(b",") + data.count(b"[") + data.count(b"{")
    if count <= limit:
        return count
    # Escaped backslashes and quotes removed, every quote left delimits a string (in valid
    # JSON; invalid JSON fails to parse where the two readings first differ).
    plain = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = _STRING.sub(b"", plain)
    return outside.count(b",") + outside.count(b"[") + outside.count(b"{")


def encode(
    value: Any, on_function: Callable[[LuaFunctionRef], int], max_depth: int, depth: int = 0
) -> Any:
    """Plain Python data as JSON-able data (``on_function`` gives a function's handle)."""
    tp = type(value)
    if value is None or tp in (bool, int, float, str):
        return value
    if tp is bytes:
        return value.decode("utf-8", "surrogateescape")
    if value is JSON_NULL:
        return {TAG: "null"}
    if isinstance(value, LuaFunctionRef):
        return {TAG: "fn", "id": on_function(value)}
    if depth >= max_depth:
        raise ValidationError(f"value nested deeper than {max_depth} levels")
    if isinstance(value, dict):
        if all(type(k) is str and not k.startswith(TAG) for k in value):
            return {k: encode(v, on_function, max_depth, depth + 1) for k, v in value.items()}
        items: list[Any] = []
        for k, v in value.items():
            if type(k) is bytes:
                k = k.decode("utf-8", "surrogateescape")
            elif type(k) not in (str, int):
                raise ValidationError(f"table keys must be strings or integers, got {k!r}")
            items.append(k)
            items.append(encode(v, on_function, max_depth, depth + 1))
        return {TAG: "map", "items": items}
    if isinstance(value, (list, tuple)):
        return [encode(v, on_function, max_depth, depth + 1) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    raise ValidationError(f"a {tp.__name__} value cannot cross to Lua")


def decode(
    data: Any,
    on_function: Callable[[int], Any],
    on_host: Callable[[int], Any] | None = None,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    budget: list[int] | None = None,
) -> Any:
    """The value ``encode`` made, with functions given back by ``on_function(handle)`` and host
    functions by ``on_host(index)``. Raises ``ProtocolError`` for anything malformed, nested
    deeper than ``max_depth`` or holding more table entries than ``budget`` (``[entries left]``,
    shared by the values decoded with it)."""
    return _Decoder(on_function, on_host, max_depth, budget).value(data, 0)


class _Decoder:
    def __init__(
        self,
        on_function: Callable[[int], Any],
        on_host: Callable[[int], Any] | None,
        max_depth: int,
        budget: list[int] | None,
    ) -> None:
        self.on_function = on_function
        self.on_host = on_host
        self.max_depth = max_depth
        self.budget = budget

    def _spend(self, entries: int) -> None:
        if self.budget is not None:
            self.budget[0] -= entries
            if self.budget[0] < 0:
                raise ProtocolError("more table entries than the run may send")

    def value(self, data: Any, depth: int) -> Any:
        tp = type(data)
        if data is None or tp in (bool, int, float, str):
            return data
        if depth >= self.max_depth:
            raise ProtocolError(f"a value nested deeper than {self.max_depth} levels")
        if tp is list:
            self._spend(len(data))
            return [self.value(v, depth + 1) for v in data]
        if tp is not dict:
            raise ProtocolError(f"not plain data: {tp.__name__}")
        tag = data.get(TAG)
        if tag is None:
            self._spend(len(data))
            return {k: self.value(v, depth + 1) for k, v in data.items()}
        if tag == "null" and len(data) == 1:
            return JSON_NULL
        if tag == "fn" and type(data.get("id")) is int:
            return self.on_function(data["id"])
        if tag == "host" and self.on_host is not None and type(data.get("i")) is int:
            return self.on_host(data["i"])
        if tag == "map" and type(data.get("items")) is list and len(data["items"]) % 2 == 0:
            items = data["items"]
            self._spend(len(items) // 2)
            out: dict[Any, Any] = {}
            for i in range(0, len(items), 2):
                key = items[i]
                if type(key) not in (str, int):
                    raise ProtocolError("malformed table entry")
                out[key] = self.value(items[i + 1], depth + 1)
            return out
        raise ProtocolError(f"unknown tagged value {str(tag)[:40]!r}")


def no_functions(handle: int) -> Any:
    raise ProtocolError("a function handle where none may be")
