"""``Event``: publish events, subscribe to event types by glob pattern, receive them.

Subscriptions are on the run's bus (``bridge.run.context.events``): a script receives the events
of its own run (its agents, tools, workflows and its own ``Event.publish``), and what it
publishes also reaches the host's subscribers. ``Event.receive`` waits on the scheduler, so
other script tasks run meanwhile.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.lua.globals.calls import named

if TYPE_CHECKING:
    from llmspell.events import Event
    from llmspell.lua.bridge import Bridge
    from llmspell.run_context import RunContext


class RunEvents:
    """The Event calls of one run."""

    def __init__(self, context: RunContext) -> None:
        self._context = context

    def publish(self, type: Any, data: Any = None) -> None:
        self._context.events.publish(type, {} if data is None else data, source="script")

    def subscribe(self, pattern: Any) -> str:
        return self._context.events.subscribe(pattern)

    async def receive(self, sub_id: Any, timeout_ms: Any = None) -> Event | None:
        """The next event of the subscription; ``None`` after ``timeout_ms`` (no limit when
        nil) or when the subscription ends."""
        if not isinstance(sub_id, str):
            raise ValidationError(
                f"Event.receive: expected a subscription id, got {_tname(sub_id)}"
            )
        timeout = None
        if timeout_ms is not None:
            if (
                isinstance(timeout_ms, bool)
                or not isinstance(timeout_ms, int | float)
                or not timeout_ms >= 0
                or math.isinf(timeout_ms)
            ):
                raise ValidationError(
                    f"Event.receive: timeout_ms must be a non-negative number, got {timeout_ms!r}"
                )
            timeout = timeout_ms / 1000
        try:
            return await self._context.events.receive(sub_id, timeout)
        except NotFoundError as exc:
            raise NotFoundError(f"Event.receive: {exc}") from None

    def unsubscribe(self, sub_id: Any) -> bool:
        if not isinstance(sub_id, str):
            raise ValidationError(f"expected a subscription id, got {_tname(sub_id)}")
        return self._context.events.unsubscribe(sub_id)


def _tname(value: Any) -> str:
    return "nil" if value is None else type(value).__name__


def install(bridge: Bridge) -> None:
    events = RunEvents(bridge.run.context)  # type: ignore[attr-defined]
    publish = bridge.sync(named(events.publish, "Event.publish"), "Event.publish")
    fns = {
        "publish": publish,
        "emit": publish,
        "subscribe": bridge.sync(named(events.subscribe, "Event.subscribe"), "Event.subscribe"),
        "receive": bridge.async_(events.receive, "Event.receive"),
        "unsubscribe": bridge.sync(
            named(events.unsubscribe, "Event.unsubscribe"), "Event.unsubscribe"
        ),
    }
    bridge.define_global("Event", fns)
