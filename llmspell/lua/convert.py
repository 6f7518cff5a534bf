"""Conversion across the plain-data boundary between Lua and Python.

The runtime is created with ``encoding=None``: Lua strings reach Python as ``bytes`` and only
``bytes`` may go back (lupa would wrap a Python ``str`` as an object). Strings are decoded as UTF-8
with ``surrogateescape`` so that any byte string round-trips exactly.

Lua tables are read with raw access only (``items()`` walks them with ``lua_next``), so no
metamethod of a script's table ever runs on the Python side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lupa import lua54

from llmspell.core.errors import ValidationError

_lua_type = lua54.lua_type


class _JsonNull:
    """Stands for ``JSON.null`` in Python data going to Lua (``None`` becomes nil in tables)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "JSON_NULL"


JSON_NULL = _JsonNull()
_SCALARS = (int, float, bool)


class LuaFunctionRef:
    """An opaque handle to a Lua function, as Python code receives it.

    Python code never calls Lua directly: awaiting ``ref(*args)`` asks the run's scheduler to
    run the function as a new script task and returns its first result as plain data.
    """

    __slots__ = ("_fn", "_invoke", "name")

    def __init__(self, fn: Any, invoke: Callable[..., Any], name: str = "function") -> None:
        self._fn = fn
        self._invoke = invoke
        self.name = name

    async def __call__(self, *args: Any) -> Any:
        return await self._invoke(self._fn, args)

    @property
    def lua_function(self) -> Any:
        """The underlying Lua function (for the bridge only)."""
        return self._fn

    def __repr__(self) -> str:
        return f"<lua function {self.name}>"


class Converter:
    """Converts values for one Lua runtime, enforcing depth, size and cycle limits."""

    def __init__(
        self,
        lua: Any,
        mark_of: Callable[[Any], Any],
        new_array: Callable[[], Any],
        null: Any,
        invoke: Callable[..., Any],
        *,
        max_depth: int = 64,
        max_items: int = 1_000_000,
    ) -> None:
        self._lua = lua
        # Marks (JSON.null, JSON.array) live in a weak-keyed Lua table read through Lua functions:
        # lupa's item access with a table key misbehaves inside callbacks made from coroutines.
        self._mark_of = mark_of
        self._new_array = new_array
        self.null = null
        self._invoke = invoke
        self._table_from = lua.table_from
        self.max_depth = max_depth
        self.max_items = max_items

    # Lua -> Python ---------------------------------------------------------------------------
    def to_python(self, value: Any, where: str = "value", *, functions: bool = False) -> Any:
        """Plain data from a Lua value. ``where`` names the value in error messages.

        With ``functions`` true, Lua functions become ``LuaFunctionRef`` handles; otherwise they
        are refused. A cycle is reported when it passes the depth limit.
        """
        tp = type(value)
        if tp is bytes:
            return value.decode("utf-8", "surrogateescape")
        if value is None or tp in _SCALARS:
            return value
        return self._convert(value, where, 0, [self.max_items], functions)

    def _convert(self, value: Any, where: str, depth: int, budget: list[int], fns: bool) -> Any:
        tp = type(value)
        if tp is bytes:
            return value.decode("utf-8", "surrogateescape")
        if value is None or tp in _SCALARS:
            return value
        kind = _lua_type(value)
        if kind == "table":
            return self._table(value, where, depth, budget, fns)
        if kind == "function":
            if fns:
                return LuaFunctionRef(value, self._invoke, where)
            raise ValidationError(f"{where}: a function cannot be passed here")
        raise ValidationError(f"{where}: a {kind or tp.__name__} value cannot cross to the host")

    def _table(self, table: Any, where: str, depth: int, budget: list[int], fns: bool) -> Any:
        if depth >= self.max_depth:
            raise ValidationError(
                f"{where}: tables nested deeper than {self.max_depth} levels (or a cycle)"
            )
        items = list(table.items())
        if not items:
            mark = self._mark_of(table)
            if mark == b"null":
                return None
            return [] if mark == b"array" else {}
        budget[0] -= len(items)
        if budget[0] < 0:
            raise ValidationError(f"{where}: more than {self.max_items} table entries")
        n = len(items)
        if all(type(k) is int for k, _ in items):
            ordered = dict(items)
            if min(ordered) == 1 and max(ordered) == n:
                return [
                    self._convert(ordered[i], f"{where}[{i}]", depth + 1, budget, fns)
                    for i in range(1, n + 1)
                ]
        out: dict[Any, Any] = {}
        for k, v in items:
            if type(k) is bytes:
                key: Any = k.decode("utf-8", "surrogateescape")
            elif type(k) is int:
                key = k
            elif type(k) is float and k.is_integer():
                key = int(k)
            else:
                raise ValidationError(
                    f"{where}: table keys must be strings or integers, got {_describe(k)}"
                )
            out[key] = self._convert(v, f"{where}.{key}", depth + 1, budget, fns)
        return out

    # Python -> Lua ---------------------------------------------------------------------------
    def to_lua(self, value: Any, depth: int = 0) -> Any:
        """A Lua value for plain Python data (``None`` in lists becomes ``JSON.null``)."""
        tp = type(value)
        if tp is str:
            return value.encode("utf-8", "surrogateescape")
        if value is None or tp in _SCALARS or tp is bytes:
            return value
        if value is JSON_NULL:
            return self.null
        if depth >= self.max_depth:
            raise ValidationError(f"value nested deeper than {self.max_depth} levels")
        if tp is dict or isinstance(value, dict):
            return self._table_from(
                {
                    (k.encode("utf-8", "surrogateescape") if type(k) is str else k): self.to_lua(
                        v, depth + 1
                    )
                    for k, v in value.items()
                    if v is not None
                }
            )
        if tp is list or tp is tuple:
            if not value:
                return self._new_array()
            return self._table_from(
                [self.null if v is None else self.to_lua(v, depth + 1) for v in value]
            )
        if _lua_type(value) is not None:
            return value
        if isinstance(value, LuaFunctionRef):
            return value.lua_function
        if isinstance(value, str):
            return str(value).encode("utf-8", "surrogateescape")
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, (list, tuple)):
            return self.to_lua(list(value), depth)
        raise ValidationError(f"a {tp.__name__} value cannot cross to Lua")


def _describe(value: Any) -> str:
    kind = _lua_type(value)
    if kind:
        return f"a {kind}"
    return f"a {type(value).__name__}"
