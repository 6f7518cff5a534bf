"""The messages between a run's host (the parent) and its worker process.

A message is a JSON object, sent as a 4-byte big-endian length and the UTF-8 text. Only plain
data crosses: ``None``, booleans, numbers, strings, lists and dicts of those. Lua strings are
bytes: they travel as text decoded with ``surrogateescape`` (JSON escapes the lone surrogates),
so every byte string arrives exactly. Values JSON cannot say directly are objects with the key
``"\\x00"``: ``{"\\x00": "null"}`` (``JSON.null``), ``{"\\x00": "fn", "id": n}`` (a Lua function,
by its handle in the worker), ``{"\\x00": "host", "i": n}`` (a host function, by index),
``{"\\x00": "map", "items": [[k, v] ...]}`` (a table with integer keys, or keys starting with
``"\\x00"``).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

from llmspell.core.errors import LlmspellError, ValidationError
from llmspell.lua.convert import JSON_NULL, LuaFunctionRef

TAG = "\x00"
HEADER = struct.Struct(">I")
MAX_MESSAGE = 1 << 30
"""No message is longer, whatever the limits (the length prefix is checked before reading)."""


class ProtocolError(Exception):
    """A message that breaks the protocol (its sender cannot be trusted any more)."""


class RemoteError(LlmspellError):
    """An error the other side reported: its message is already ``Kind: text``."""

    def lua_message(self) -> str:
        return str(self)


def frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return HEADER.pack(len(data)) + data


def unframe(data: bytes) -> dict[str, Any]:
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"unreadable message: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("a message must be an object with a type")
    return message


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
        items = []
        for k, v in value.items():
            if type(k) is bytes:
                k = k.decode("utf-8", "surrogateescape")
            elif type(k) not in (str, int):
                raise ValidationError(f"table keys must be strings or integers, got {k!r}")
            items.append([k, encode(v, on_function, max_depth, depth + 1)])
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
) -> Any:
    """The value ``encode`` made, with functions given back by ``on_function(handle)`` and host
    functions by ``on_host(index)``. Raises ``ProtocolError`` for anything malformed."""
    tp = type(data)
    if data is None or tp in (bool, int, float, str):
        return data
    if tp is list:
        return [decode(v, on_function, on_host) for v in data]
    if tp is not dict:
        raise ProtocolError(f"not plain data: {tp.__name__}")
    tag = data.get(TAG)
    if tag is None:
        return {k: decode(v, on_function, on_host) for k, v in data.items()}
    if tag == "null":
        return JSON_NULL
    if tag == "fn" and type(data.get("id")) is int:
        return on_function(data["id"])
    if tag == "host" and on_host is not None and type(data.get("i")) is int:
        return on_host(data["i"])
    if tag == "map" and type(data.get("items")) is list:
        out: dict[Any, Any] = {}
        for pair in data["items"]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                raise ProtocolError("malformed table entry")
            out[pair[0]] = decode(pair[1], on_function, on_host)
        return out
    raise ProtocolError(f"unknown tagged value {tag!r}")


def no_functions(handle: int) -> Any:
    raise ProtocolError("a function handle where none may be")
