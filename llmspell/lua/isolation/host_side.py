"""The host's side of the globals of a process-isolated run.

The global adapters run their ``install(bridge)`` in the parent, as they do in-process, against a
``PlanBridge``: it creates no Lua function but records each host function (by index) and each
global, as plain data — the install plan. The worker replays the plan: it creates one Lua
function per recorded host function, which sends its calls to the parent, and defines the
globals, running the ``.lua`` adapter files there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from llmspell.core.config import Config
from llmspell.lua.convert import JSON_NULL, LuaFunctionRef
from llmspell.lua.isolation.protocol import TAG, encode
from llmspell.lua.limits import truncate_message
from llmspell.lua.scheduler import RunAborted
from llmspell.lua.scheduler import encode as encode_text


@dataclass(frozen=True)
class HostFunction:
    """A host function of the plan: what a Lua function of the worker stands for."""

    index: int
    name: str
    fn: Callable[..., Any]
    waits: bool
    functions: bool


class PlainConverter:
    """The converter adapters see in the parent: values stay plain data until they are sent."""

    null = JSON_NULL

    def __init__(self, max_depth: int, max_items: int) -> None:
        self.max_depth = max_depth
        self.max_items = max_items

    def to_lua(self, value: Any) -> Any:
        return value

    def to_python(self, value: Any, where: str = "value", **options: Any) -> Any:
        return value

    def room(self, nbytes: int) -> bool:
        return True

    def message(self, text: str) -> bytes:
        return encode_text(truncate_message(text))


@dataclass
class PlanScheduler:
    """What adapters use of the scheduler in the parent: functions to await when the run ends."""

    finalizers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    abort: RunAborted | None = None


class PlanBridge:
    """The ``Bridge`` API, recording the install plan instead of making Lua functions."""

    def __init__(
        self,
        converter: PlainConverter,
        scheduler: PlanScheduler,
        *,
        config: Config,
        services: Any,
        script_name: str,
    ) -> None:
        self.converter = converter
        self.scheduler = scheduler
        self.config = config
        self.services = services
        self.script_name = script_name
        self.functions: list[HostFunction] = []
        self.globals: list[dict[str, Any]] = []

    @property
    def env(self) -> Any:
        raise TypeError(
            "a global adapter indexed the Lua environment from Python: use bridge.set_global "
            "or a .lua adapter file (see docs/internals/lua-adapters.md)"
        )

    def sync(self, fn: Callable[..., Any], name: str, *, functions: bool = False) -> HostFunction:
        return self._add(fn, name, False, functions)

    def async_(
        self, fn: Callable[..., Awaitable[Any]], name: str, *, functions: bool = False
    ) -> HostFunction:
        return self._add(fn, name, True, functions)

    def _add(self, fn: Callable[..., Any], name: str, waits: bool, functions: bool) -> HostFunction:
        entry = HostFunction(len(self.functions), name, fn, waits, functions)
        self.functions.append(entry)
        return entry

    def define_global(
        self, name: str, functions: dict[str, Any], lua_file: str | None = None
    ) -> None:
        fns = {key: self._value(value) for key, value in functions.items()}
        self.globals.append({"op": "global", "name": name, "functions": fns, "lua_file": lua_file})

    def set_global(self, name: str, value: Any) -> None:
        self.globals.append({"op": "set", "path": name, "value": self._value(value)})

    def _value(self, value: Any) -> Any:
        if isinstance(value, HostFunction):
            return {TAG: "host", "i": value.index}
        return encode(value, _no_function, self.converter.max_depth)

    def plan(self) -> dict[str, Any]:
        """The plan as plain data (what the worker receives)."""
        return {
            "functions": [
                {"name": f.name, "async": f.waits, "functions": f.functions} for f in self.functions
            ],
            "globals": self.globals,
        }


def _no_function(ref: LuaFunctionRef) -> int:
    raise TypeError("a global's value cannot be a Lua function at install time")
