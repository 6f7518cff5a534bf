"""What a Lua global adapter uses to expose host functions to scripts.

Every host function is wrapped twice: a Python callback that converts arguments to plain data,
calls the domain layer, converts the result back and turns any exception into a message string
(a Python exception object must never reach Lua), and a Lua function from the sandbox kernel that
raises that message as a Lua error at the script's line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.lua.host_calls import failure
from llmspell.lua.scheduler import encode, internal_error

if TYPE_CHECKING:
    from llmspell.core.config import Config
    from llmspell.lua.convert import Converter
    from llmspell.lua.scheduler import Scheduler

_SCALARS = (int, float, bool)
_GLOBALS_DIR = Path(__file__).parent / "globals"


@cache
def lua_source(name: str) -> bytes:
    """The source of a Lua adapter file in ``llmspell/lua/globals/`` (read once per process)."""
    return (_GLOBALS_DIR / name).read_bytes()


class Bridge:
    """The toolkit of global adapters for one run (one Lua runtime)."""

    def __init__(
        self,
        lua: Any,
        kernel: Any,
        converter: Converter,
        scheduler: Scheduler,
        *,
        config: Config,
        services: Any,
        script_name: str,
    ) -> None:
        self.lua = lua
        self.kernel = kernel
        self.env = kernel[b"env"]
        self.converter = converter
        self.scheduler = scheduler
        self.config = config
        self.services = services
        self.script_name = script_name
        self._kernel_sync = kernel[b"sync_fn"]
        self._kernel_async = kernel[b"async_fn"]

    # -- wrapping ----------------------------------------------------------------------------
    def callback(
        self,
        fn: Callable[..., Any],
        name: str,
        *,
        functions: bool = False,
        finish: Callable[[Any], Any] | None = None,
    ) -> Callable[..., tuple[Any, Any]]:
        """The raw Python side of a host function: plain data in, ``(ok, value)`` out, or
        ``(False, message, kind)`` (see ``llmspell.lua.host_calls``).

        With ``functions`` true, Lua functions among the arguments arrive as ``LuaFunctionRef``.
        ``finish`` turns ``fn``'s result into what Lua receives (default: converted to Lua).
        All the arguments of one call share one limit of table entries.
        """
        converter = self.converter
        to_python = converter.to_python
        finish = finish or converter.to_lua

        def call(*args: Any) -> tuple[Any, ...]:
            try:
                budget = [converter.max_items]
                py_args = []
                for i, arg in enumerate(args, 1):
                    kind = type(arg)
                    if kind is bytes:
                        py_args.append(arg.decode("utf-8", "surrogateescape"))
                    elif arg is None or kind in _SCALARS:
                        py_args.append(arg)
                    else:  # tables and functions; the argument's name is built only here
                        py_args.append(
                            to_python(
                                arg, f"{name}: argument #{i}", functions=functions, budget=budget
                            )
                        )
                return True, finish(fn(*py_args))
            except BaseException as exc:
                return failure(exc, converter, self._internal)

        return call

    def _internal(self, exc: BaseException) -> str:
        """An unexpected Python error as a message; with ``--trace debug`` it has the traceback."""
        message = internal_error(exc)
        if getattr(getattr(self, "run", None), "log_level", None) in ("debug", "trace"):
            import traceback

            message += "\n" + "".join(traceback.format_exception(exc))
        return message

    def sync(self, fn: Callable[..., Any], name: str, *, functions: bool = False) -> Any:
        """A Lua function that calls ``fn`` and returns its result at once."""
        return self._kernel_sync(self.callback(fn, name, functions=functions), encode(name))

    def async_(
        self, fn: Callable[..., Awaitable[Any]], name: str, *, functions: bool = False
    ) -> Any:
        """A Lua function that starts ``fn``'s awaitable and waits for it on the scheduler."""
        start = self.callback(fn, name, functions=functions, finish=self.scheduler.start_op)
        return self._kernel_async(start, encode(name))

    def table(self, fields: dict[str, Any]) -> Any:
        """A Lua table of already-Lua values (functions, tables, scalars)."""
        return self.lua.table_from({encode(k): v for k, v in fields.items()})

    def define_global(
        self, name: str, functions: dict[str, Any], lua_file: str | None = None
    ) -> Any:
        """Set global ``name``: a table of ``functions``, or what a Lua adapter file builds.

        A Lua adapter file is a chunk run once in trusted mode with ``(kernel, functions, bridge
        values)``; it returns the global's value.
        """
        fns = self.table(functions)
        if lua_file is None:
            value = fns
        else:
            chunk = self.lua.execute(
                b"return load(...)", lua_source(lua_file), b"=llmspell/" + encode(lua_file)
            )
            value = chunk(self.kernel, fns)
        self.env[encode(name)] = value
        return value

    def set_global(self, name: str, value: Any) -> None:
        """Set global ``name`` to plain data or a function made by ``sync``/``async_``; a dotted
        name (``"io.read"``) sets a field of an existing global table."""
        *path, last = name.split(".")
        table = self.env
        for part in path:
            table = table[encode(part)]
        table[encode(last)] = self.converter.to_lua(value)
