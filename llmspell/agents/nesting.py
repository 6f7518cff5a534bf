"""How deeply agents are running inside tools of other agents, in the current task.

A context variable, so concurrent calls each see their own depth (asyncio copies the context
into every task) and an agent that reaches itself through its tools is stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DEPTH: ContextVar[int] = ContextVar("llmspell_agent_depth", default=0)


def agent_depth() -> int:
    """0 outside any agent tool; 1 inside an agent run by a tool; and so on."""
    return _DEPTH.get()


@contextmanager
def nested_agent() -> Iterator[int]:
    """One level deeper for the duration of the block; yields the new depth."""
    depth = _DEPTH.get() + 1
    token = _DEPTH.set(depth)
    try:
        yield depth
    finally:
        _DEPTH.reset(token)
