"""How a Python callback answers Lua: ``(True, value ...)`` or ``(False, message, kind)``.

Whatever a callback raises is turned into a message here: an exception that reached Lua would
arrive as a Python object (a ``pcall`` could keep it and walk to Python internals), and a
``KeyboardInterrupt`` caught by a script's ``pcall`` would be lost. ``kind`` is set when the
call reached a limit of the run (``memory``, ``output_limit``, ``timeout``, ``cancelled``): the
sandbox then ends the run with it, whatever the script does to catch it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from lupa import lua54

from llmspell.core.errors import LimitExceeded, LlmspellError
from llmspell.lua.convert import MEMORY_MESSAGE
from llmspell.lua.scheduler import TaskFailed, encode, internal_error

if TYPE_CHECKING:
    from llmspell.lua.convert import Converter

Failure = tuple[bool, bytes, bytes | None]


class Messages(Protocol):
    def message(self, text: str) -> bytes:
        """``text`` as Lua receives an error message (cut to the limit)."""


_KINDS = {
    kind: kind.encode() for kind in ("memory", "output_limit", "timeout", "cancelled", "exit")
}


def failure(
    exc: BaseException,
    converter: Messages,
    describe: Callable[[Exception], str] = internal_error,
) -> Failure:
    """The answer Lua gets when a host call raised ``exc``."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return False, b"cancelled", b"cancelled"
    if isinstance(exc, lua54.LuaMemoryError):
        return False, MEMORY_MESSAGE, b"memory"
    if isinstance(exc, LimitExceeded):
        return _limit(exc.error_kind, str(exc), converter)
    if isinstance(exc, TaskFailed):  # a Lua task the call ran ended the run (RunAborted)
        if exc.kind in _KINDS:
            return _limit(exc.kind, exc.message, converter)
        return False, converter.message(exc.message), None
    if isinstance(exc, LlmspellError):
        return False, converter.message(exc.lua_message()), None
    if isinstance(exc, Exception):
        return False, converter.message(describe(exc)), None
    return False, b"cancelled", b"cancelled"


def _limit(kind: str, message: str, converter: Messages) -> Failure:
    if kind == "memory":
        return False, MEMORY_MESSAGE, b"memory"
    return False, converter.message(message), _KINDS.get(kind, encode(kind))


def guarded(fn: Callable[..., Any], converter: Callable[[], Converter]) -> Callable[..., Any]:
    """``fn`` as a callback of the sandbox prelude: its failures become answers, and strings in
    its answer are checked to fit in the run's memory (a module's source can be megabytes)."""

    def call(*args: Any) -> Any:
        try:
            result = fn(*args)
        except BaseException as exc:
            return failure(exc, converter())
        if type(result) is tuple:
            size = sum(len(part) for part in result if type(part) is bytes)
            if size > 0 and not converter().room(size + 64 * len(result)):
                return False, MEMORY_MESSAGE, b"memory"
        return result

    return call
