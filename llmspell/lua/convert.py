"""Conversion across the plain-data boundary between Lua and Python.

The runtime is created with ``encoding=None``: Lua strings reach Python as ``bytes`` and only
``bytes`` may go back (lupa would wrap a Python ``str`` as an object). Strings are decoded as UTF-8
with ``surrogateescape`` so that any byte string round-trips exactly.

Lua tables are read with raw access only (``items()`` walks them with ``lua_next``), so no
metamethod of a script's table ever runs on the Python side. They are read one entry at a time
and converted at once, so that the host never holds more than a path's worth of Lua references.

Going to Lua, every allocation is checked against the run's memory limit first: lupa builds
tables and strings outside any protected call, and an allocation failure there aborts or freezes
the whole process. When the room is not there, ``LimitExceeded`` (``memory``) is raised instead
and the run ends with the memory limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lupa import lua54

from llmspell.core.errors import LimitExceeded, SandboxViolation, ValidationError
from llmspell.lua.limits import MAX_FUNCTION_REFS, memory_reserve, truncate_message

_lua_type = lua54.lua_type

MEMORY_MESSAGE = b"not enough memory"
"""Lua's own out-of-memory message: it is interned in every Lua state, so handing it to Lua
allocates nothing (it is what a host call returns when the memory limit is reached)."""

TABLE_BYTES = 64
ENTRY_BYTES = 64
STRING_BYTES = 40
"""Upper bounds of what a Lua 5.4 table, one of its entries and a string header take."""


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
    """Converts values for one Lua runtime, enforcing depth, size, memory and cycle limits."""

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
        max_refs: int = MAX_FUNCTION_REFS,
    ) -> None:
        self._lua = lua
        # Marks (JSON.null, JSON.array) live in a weak-keyed Lua table read through Lua functions:
        # lupa's item access with a table key misbehaves inside callbacks made from coroutines.
        self._mark_of = mark_of
        self._new_array = new_array
        self.null = null
        self._invoke = invoke
        # A Lua function reaching Python in a callback made from a coroutine is bound to that
        # coroutine's thread: releasing it after Lua collected the finished coroutine crashes
        # the process. Passed through a main-thread function, it is bound to the main thread.
        self._anchor = lua.eval("function(f) return f end")
        self.anchor = self._anchor
        """Rebinds a Lua value to the main thread (for values Python keeps after a callback)."""
        self._table_from = lua.table_from
        self.max_depth = max_depth
        self.max_items = max_items
        self.max_refs = max_refs
        self.refs = 0
        limit = lua.get_max_memory()
        self._used = lua.get_memory_used
        self._ceiling: int | None = None if not limit else limit - memory_reserve(limit) // 2

    # Memory ------------------------------------------------------------------------------------
    def room(self, nbytes: int) -> bool:
        """Whether ``nbytes`` more fit in the Lua VM, leaving the host its reserve (garbage is
        collected first when they do not fit at once)."""
        ceiling = self._ceiling
        if ceiling is None or self._used() + nbytes <= ceiling:
            return True
        self._lua.gccollect()
        return bool(self._used() + nbytes <= ceiling)

    def _need(self, nbytes: int) -> None:
        if not self.room(nbytes):
            raise LimitExceeded("memory limit reached", "memory")

    def message(self, text: str) -> bytes:
        """An error message as Lua receives it: cut to the message limit, and Lua's own
        out-of-memory message when even that does not fit."""
        data = truncate_message(text).encode("utf-8", "surrogateescape")
        return data if self.room(len(data) + STRING_BYTES) else MEMORY_MESSAGE

    # Lua -> Python ---------------------------------------------------------------------------
    def to_python(
        self,
        value: Any,
        where: str = "value",
        *,
        functions: bool = False,
        budget: list[int] | None = None,
    ) -> Any:
        """Plain data from a Lua value. ``where`` names the value in error messages.

        With ``functions`` true, Lua functions become ``LuaFunctionRef`` handles; otherwise they
        are refused. ``budget`` (``[entries left]``) lets several values share one entry limit
        (the arguments of one call). A cycle is reported when it passes the depth limit.
        """
        tp = type(value)
        if tp is bytes:
            return value.decode("utf-8", "surrogateescape")
        if value is None or tp in _SCALARS:
            return value
        return self._convert(
            value, where, 0, [self.max_items] if budget is None else budget, functions
        )

    def _convert(self, value: Any, where: str, depth: int, budget: list[int], fns: bool) -> Any:
        kind = _lua_type(value)
        if kind == "table":
            return self._table(value, where, depth, budget, fns)
        if kind == "function":
            if not fns:
                raise ValidationError(f"{where}: a function cannot be passed here")
            self.refs += 1
            if self.refs > self.max_refs:
                raise SandboxViolation(
                    f"{where}: more than {self.max_refs} functions handed to the host in one run"
                )
            return LuaFunctionRef(self._anchor(value), self._invoke, where)
        raise ValidationError(
            f"{where}: a {kind or type(value).__name__} value cannot cross to the host"
        )

    def _table(self, table: Any, where: str, depth: int, budget: list[int], fns: bool) -> Any:
        if depth >= self.max_depth:
            raise ValidationError(
                f"{where}: tables nested deeper than {self.max_depth} levels (or a cycle)"
            )
        out: dict[Any, Any] = {}
        all_int, low, high = True, 0, 0
        for k, v in table.items():
            budget[0] -= 1
            if budget[0] < 0:
                raise ValidationError(f"{where}: more than {self.max_items} table entries")
            tk = type(k)
            if tk is bytes:
                key: Any = k.decode("utf-8", "surrogateescape")
                all_int = False
            elif tk is int or (tk is float and k.is_integer()):
                key = int(k)
                if not out:
                    low = high = key
                elif key < low:
                    low = key
                elif key > high:
                    high = key
            else:
                raise ValidationError(
                    f"{where}: table keys must be strings or integers, got {_describe(k)}"
                )
            tv = type(v)
            if tv is bytes:
                out[key] = v.decode("utf-8", "surrogateescape")
            elif tv in _SCALARS:
                out[key] = v
            else:
                child = f"{where}[{key}]" if type(key) is int else f"{where}.{key}"
                out[key] = self._convert(v, child, depth + 1, budget, fns)
        if not out:
            mark = self._mark_of(table)
            if mark == b"null":
                return None
            return [] if mark == b"array" else {}
        if all_int and low == 1 and high == len(out):
            return [out[i] for i in range(1, high + 1)]
        return out

    # Python -> Lua ---------------------------------------------------------------------------
    def to_lua(self, value: Any) -> Any:
        """A Lua value for plain Python data (``None`` in lists becomes ``JSON.null``).

        Raises ``LimitExceeded`` (memory) when the value does not fit in the run's memory.
        """
        tp = type(value)
        if value is None or tp in _SCALARS:
            return value
        converted = self._to_lua(value, 0)
        if type(converted) is bytes:
            self._need(len(converted) + STRING_BYTES)
        return converted

    def _to_lua(self, value: Any, depth: int) -> Any:
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
            # What the table takes in Lua, at most, is counted as it is filled: nested tables
            # exist already, strings are made with the table. Scalars are converted inline
            # (tool results and State values are mostly scalars).
            fields: dict[Any, Any] = {}
            size = TABLE_BYTES
            for k, v in value.items():
                if v is None:
                    continue
                if type(k) is str:
                    key = k.encode("utf-8", "surrogateescape")
                    size += len(key) + STRING_BYTES + ENTRY_BYTES
                else:
                    key = k
                    size += len(k) + STRING_BYTES + ENTRY_BYTES if type(k) is bytes else ENTRY_BYTES
                tv = type(v)
                if tv is str:
                    item = v.encode("utf-8", "surrogateescape")
                    size += len(item) + STRING_BYTES
                elif tv in _SCALARS:
                    item = v
                else:
                    item = self._to_lua(v, depth + 1)
                    if type(item) is bytes:
                        size += len(item) + STRING_BYTES
                fields[key] = item
            self._need(size)
            return self._table_from(fields)
        if tp is list or tp is tuple:
            if not value:
                self._need(TABLE_BYTES)
                return self._new_array()
            items = []
            size = TABLE_BYTES + ENTRY_BYTES * len(value)
            for v in value:
                tv = type(v)
                if tv is str:
                    item = v.encode("utf-8", "surrogateescape")
                    size += len(item) + STRING_BYTES
                elif v is None:
                    item = self.null
                elif tv in _SCALARS:
                    item = v
                else:
                    item = self._to_lua(v, depth + 1)
                    if type(item) is bytes:
                        size += len(item) + STRING_BYTES
                items.append(item)
            self._need(size)
            return self._table_from(items)
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
            return self._to_lua(list(value), depth)
        raise ValidationError(f"a {tp.__name__} value cannot cross to Lua")


def _describe(value: Any) -> str:
    kind = _lua_type(value)
    if kind:
        return f"a {kind}"
    return f"a {type(value).__name__}"
