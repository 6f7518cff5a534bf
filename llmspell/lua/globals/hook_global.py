"""``Hook``: Lua functions registered at hook points; listing and removing hooks.

Hooks go into the run's registry (``bridge.run.context.hooks``), a child of the host's: they
fire on every tool, agent and workflow call the run makes, in priority order with the host's
Python hooks, and end with the run. A Lua hook runs as a script task: it may wait (``sleep``,
``Tool.execute`` ...) and its errors count as hook failures (``[security] hook_failure``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import LimitExceeded, ValidationError
from llmspell.lua.convert import LuaFunctionRef
from llmspell.lua.globals.calls import named
from llmspell.lua.scheduler import RunAborted

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.run_context import RunContext


class RunHooks:
    """The Hook calls of one run."""

    def __init__(self, context: RunContext) -> None:
        self._context = context
        self._count = 0

    def register(
        self, point: Any, fn: Any = None, priority: Any = None, name: Any = None
    ) -> dict[str, Any]:
        """``{hook_id, point, name}`` of the new hook (the Lua side makes it a handle)."""
        if not isinstance(fn, LuaFunctionRef):
            raise ValidationError(f"the hook must be a function, got {_tname(fn)}")
        if name is not None and not isinstance(name, str):
            raise ValidationError(f"the hook name must be a string, got {_tname(name)}")
        registry = self._context.hooks
        canonical = registry.point_name(point)
        self._count += 1
        label = name or f"lua:{canonical}#{self._count}"
        hook_id = registry.register(
            canonical, _lua_hook(fn), 0 if priority is None else priority, label, language="lua"
        )
        return {"hook_id": hook_id, "point": canonical, "name": label}

    def unregister(self, hook_id: Any) -> bool:
        if not isinstance(hook_id, str):
            raise ValidationError(f"expected a hook handle or id, got {_tname(hook_id)}")
        return self._context.hooks.unregister(hook_id)

    def list_hooks(self, filter: Any = None) -> list[dict[str, Any]]:
        return self._context.hooks.list(filter)

    def points(self) -> list[str]:
        return self._context.hooks.points


def _lua_hook(fn: LuaFunctionRef) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    """The registry's view of a Lua hook. A hook that ends the run (a limit, ``os.exit``)
    raises ``LimitExceeded``, which the registry lets through instead of treating it as a
    failing hook."""

    async def call(ctx: dict[str, Any]) -> Any:
        try:
            return await fn(ctx)
        except RunAborted as exc:
            raise LimitExceeded(exc.message, exc.kind) from None

    return call


def _tname(value: Any) -> str:
    return "nil" if value is None else type(value).__name__


def install(bridge: Bridge) -> None:
    hooks = RunHooks(bridge.run.context)  # type: ignore[attr-defined]
    fns = {
        "register": bridge.sync(
            named(hooks.register, "Hook.register"), "Hook.register", functions=True
        ),
        "unregister": bridge.sync(named(hooks.unregister, "Hook.unregister"), "Hook.unregister"),
        "list": bridge.sync(named(hooks.list_hooks, "Hook.list"), "Hook.list"),
        "points": bridge.sync(hooks.points, "Hook.points"),
    }
    bridge.define_global("Hook", fns, lua_file="hook.lua")
