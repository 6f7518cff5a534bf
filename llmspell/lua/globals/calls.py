"""Registering a domain object's methods as the functions of a Lua global."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, StateError, ValidationError

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge

_RENAMEABLE = (ValidationError, StateError, NotFoundError)


def named(fn: Callable[..., Any], where: str) -> Callable[..., Any]:
    """``fn`` with the Lua call's name (``State.save``) in front of its error messages."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except _RENAMEABLE as exc:
            raise type(exc)(f"{where}: {exc}") from None

    return call


def register(
    bridge: Bridge, target: Any, prefix: str, methods: dict[str, tuple[str, ...]]
) -> dict[str, Any]:
    """Lua functions for ``target``'s methods, ``{method: (Lua name, alias, ...)}``; every
    spelling maps to the same function. Error messages use the first spelling."""
    fns: dict[str, Any] = {}
    for method, spellings in methods.items():
        where = f"{prefix}.{spellings[0]}"
        fn = bridge.sync(named(getattr(target, method), where), where)
        for spelling in spellings:
            fns[spelling] = fn
    return fns
