"""Events and hooks.

``EventBus``: components publish events (``agent.execution.started``, ``tool.called``,
``workflow.step.completed`` ...) and subscribers receive those matching a glob pattern
(``agent.*``, ``*.failed``, ``*``) from a bounded queue: when a slow subscriber's queue is full the
oldest event is dropped and counted. Events carry the correlation id of the scope they were
published in (``correlation_scope``), so everything one run or one call did can be grouped.

``HookRegistry``: callables registered at a hook point (``BeforeToolExecution`` ...) run in
priority order when the point fires, and may let the call continue, change its data, skip it
(with a replacement result), cancel it, or ask for a retry. ``call_with_hooks`` wraps one
operation in its before, after and error points with exactly those semantics.

Standard library only: this module is on the startup path of every script.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import fnmatch
import heapq
import inspect
import itertools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llmspell.core.errors import (
    BudgetExceeded,
    Cancelled,
    HookError,
    LimitExceeded,
    LlmspellError,
    NotFoundError,
    ValidationError,
)
from llmspell_utils.ids import new_id

if TYPE_CHECKING:
    from llmspell.core.config import Config

log = logging.getLogger(__name__)

Event = dict[str, Any]
"""``{id, type, data, timestamp, sequence, correlation_id, source}``: plain data."""

DEFAULT_MAX_QUEUE = 1000

# --- correlation ids -----------------------------------------------------------------------------

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "llmspell_correlation_id", default=None
)


def current_correlation_id() -> str | None:
    """The correlation id of the innermost ``correlation_scope`` around the caller."""
    return _correlation.get()


@contextlib.contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Tag every event published inside the block (and in tasks started inside it) with
    ``correlation_id`` (a new ``corr_...`` id when not given); yields the id."""
    cid = correlation_id or new_id("corr")
    token = _correlation.set(cid)
    try:
        yield cid
    finally:
        _correlation.reset(token)


# --- the event bus -------------------------------------------------------------------------------


def _compile(pattern: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ValidationError(f"event pattern must be a non-empty string, got {pattern!r}")
    return re.compile(fnmatch.translate(pattern))


@dataclass(eq=False)
class _Subscription:
    id: str
    pattern: str
    matcher: re.Pattern[str]
    queue: deque[Event]
    max_queue: int
    dropped: int = 0
    closed: bool = False
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pattern": self.pattern,
            "queued": len(self.queue),
            "dropped": self.dropped,
            "max_queue": self.max_queue,
        }


def _wake(future: asyncio.Future[None]) -> None:
    """Resolve a receiver's future from any thread."""

    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    loop = future.get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        resolve()
    elif not loop.is_closed():
        loop.call_soon_threadsafe(resolve)


class EventBus:
    """Publish/subscribe with glob patterns and bounded per-subscriber queues.

    ``publish`` never blocks and may be called from any thread; ``receive`` waits on the
    asyncio loop of its caller.
    """

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        parent: EventBus | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.max_queue = _queue_size(max_queue)
        self.parent = parent
        self.correlation_id = correlation_id
        self._subs: dict[str, _Subscription] = {}
        self._lock = threading.Lock()
        self._sequence: itertools.count[int] = (
            itertools.count(1) if parent is None else parent._sequence
        )

    def child(self, *, correlation_id: str | None = None) -> EventBus:
        """A bus whose events also reach this one, while its own subscribers see only its own
        events (one run's events, say). Events published on it without a correlation id get
        ``correlation_id``; sequence numbers are shared, so they order events across both."""
        return EventBus(max_queue=self.max_queue, parent=self, correlation_id=correlation_id)

    def publish(
        self,
        type: str,
        data: Mapping[str, Any] | None = None,
        *,
        correlation_id: str | None = None,
        source: str | None = None,
    ) -> None:
        """Deliver an event to every subscription whose pattern matches ``type``, here and on
        the parent buses."""
        if not isinstance(type, str) or not type:
            raise ValidationError(f"event type must be a non-empty string, got {type!r}")
        if data is not None and not isinstance(data, Mapping):
            raise ValidationError(f"event '{type}': data must be a table, got {_type_name(data)}")
        cid = correlation_id or _correlation.get() or self.correlation_id
        event: Event | None = None
        bus: EventBus | None = self
        while bus is not None:
            if bus._subs:
                event = bus._deliver(type, data, cid, source, event)
            bus = bus.parent

    def wants(self, type: str) -> bool:
        """Whether an event of ``type`` published now would reach a subscription (here or on a
        parent bus): a publisher may skip building an event nobody receives."""
        bus: EventBus | None = self
        while bus is not None:
            if bus._subs:
                with bus._lock:
                    if any(sub.matcher.match(type) for sub in bus._subs.values()):
                        return True
            bus = bus.parent
        return False

    def _deliver(
        self,
        type: str,
        data: Mapping[str, Any] | None,
        correlation_id: str | None,
        source: str | None,
        event: Event | None,
    ) -> Event | None:
        """Queue the event (made now unless a child bus made it) for the matching
        subscriptions of this bus; the event, or ``None`` while no subscription wanted it."""
        with self._lock:
            targets = [s for s in self._subs.values() if s.matcher.match(type)]
            if not targets:
                return event
            if event is None:
                event = {
                    "id": new_id("evt"),
                    "type": type,
                    "data": dict(data or {}),
                    "timestamp": time.time(),
                    "sequence": next(self._sequence),
                    "correlation_id": correlation_id,
                    "source": source,
                }
            woken: list[asyncio.Future[None]] = []
            for sub in targets:
                if len(sub.queue) == sub.max_queue:
                    sub.dropped += 1
                sub.queue.append(event)
                woken.extend(sub.waiters)
                sub.waiters.clear()
        for future in woken:
            _wake(future)
        return event

    def subscribe(self, pattern: str, *, max_queue: int | None = None) -> str:
        """Start queueing events whose type matches the glob ``pattern``; returns the
        subscription id. At most ``max_queue`` events wait; older ones are dropped first."""
        size = self.max_queue if max_queue is None else _queue_size(max_queue)
        sub = _Subscription(
            id=new_id("sub"),
            pattern=pattern,
            matcher=_compile(pattern),
            queue=deque(maxlen=size),
            max_queue=size,
        )
        with self._lock:
            self._subs[sub.id] = sub
        return sub.id

    def unsubscribe(self, sub_id: str) -> bool:
        """Stop the subscription (a pending ``receive`` returns ``None``); False if unknown."""
        with self._lock:
            sub = self._subs.pop(sub_id, None)
            if sub is None:
                return False
            sub.closed = True
            woken = list(sub.waiters)
            sub.waiters.clear()
        for future in woken:
            _wake(future)
        return True

    async def receive(self, sub_id: str, timeout: float | None = None) -> Event | None:
        """The oldest queued event of the subscription, waiting up to ``timeout`` seconds
        (``None``: no limit, ``0``: do not wait). ``None`` when the time is up or the
        subscription ends while waiting."""
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0
        ):
            raise ValidationError(f"receive timeout must be a non-negative number, got {timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                sub = self._require(sub_id)
                if sub.queue:
                    return sub.queue.popleft()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                sub.waiters.append(future)
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                return None
            finally:
                with self._lock:
                    if future in sub.waiters:
                        sub.waiters.remove(future)
            if sub.closed:
                return sub.queue.popleft() if sub.queue else None

    def info(self, sub_id: str) -> dict[str, Any]:
        """``{id, pattern, queued, dropped, max_queue}`` of a subscription."""
        with self._lock:
            return self._require(sub_id).info()

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [sub.info() for sub in self._subs.values()]

    def _require(self, sub_id: str) -> _Subscription:
        sub = self._subs.get(sub_id)
        if sub is None:
            raise NotFoundError(f"event subscription '{sub_id}' not found")
        return sub


def _queue_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"max_queue must be a positive integer, got {value!r}")
    return value


def _type_name(value: Any) -> str:
    return type(value).__name__


# --- hooks ---------------------------------------------------------------------------------------

HOOK_POINTS: tuple[str, ...] = (
    "BeforeAgentExecution",
    "AfterAgentExecution",
    "AgentError",
    "BeforeToolExecution",
    "AfterToolExecution",
    "ToolError",
    "BeforeWorkflowStart",
    "BeforeWorkflowStage",
    "AfterWorkflowStage",
    "AfterWorkflowComplete",
    "WorkflowError",
)
"""The points where llmspell fires hooks (the spec's ``Hook`` section)."""

PRIORITIES: dict[str, int] = {
    "highest": -(2**31),
    "high": -100,
    "normal": 0,
    "low": 100,
    "lowest": 2**31 - 1,
}
"""Named priorities. A lower number runs earlier; equal priorities run in registration order."""

HookFunction = Callable[[dict[str, Any]], Any]
"""A hook: called with ``{point, data, correlation_id, hook}``; sync, or returning an awaitable.

It returns ``None`` or ``"continue"``, ``"skip"``, any other string (a cancel reason), or a
table ``{type="modified", data={...}}``, ``{type="replace", data=<result>}``,
``{type="cancel", reason=...}``, ``{type="skip"}`` or ``{type="retry", delay=s, attempts=n}``."""

FailureMode = Literal["open", "closed"]


class HookSkip(LlmspellError):
    """A hook asked to skip the operation; ``result`` stands in for what it would have
    returned (``None`` for a plain ``"skip"``, the hook's data for ``replace``)."""

    kind = "HookSkip"

    def __init__(self, result: Any = None, *, point: str = "", hook: str = "") -> None:
        super().__init__(f"hook '{hook}' at {point} skipped the call")
        self.result = result
        self.point = point
        self.hook = hook


class HookRetry(LlmspellError):
    """A hook asked to run the operation again: up to ``attempts`` more times, ``delay``
    seconds apart."""

    kind = "HookRetry"

    def __init__(self, delay: float, attempts: int, *, point: str = "", hook: str = "") -> None:
        super().__init__(f"hook '{hook}' at {point} asked for a retry")
        self.delay = delay
        self.attempts = attempts
        self.point = point
        self.hook = hook


@dataclass(frozen=True, slots=True)
class _Hook:
    id: str
    point: str
    fn: HookFunction
    priority: int
    name: str
    language: str
    order: int

    def sort_key(self) -> tuple[int, int]:
        return (self.priority, self.order)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "point": self.point,
            "name": self.name,
            "priority": self.priority,
            "language": self.language,
        }


def _point_key(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


class HookRegistry:
    """Hooks by point. ``failure_mode`` says what a hook that raises (or returns something
    unreadable) does: ``"open"`` ignores it, ``"closed"`` fails the call with ``HookError``.
    Either way the failure is published as a ``hook.failed`` event and logged.

    A registry with a ``parent`` (see ``child``) fires the parent's hooks too, merged with its
    own in priority order, and lists them; it registers and unregisters only its own. Errors
    that end a run (``BudgetExceeded``, ``LimitExceeded``) raised by a hook are never
    treated as a hook failure: they propagate."""

    def __init__(
        self,
        *,
        events: EventBus | None = None,
        failure_mode: FailureMode = "open",
        points: tuple[str, ...] = HOOK_POINTS,
        parent: HookRegistry | None = None,
        correlation_id: str | None = None,
    ) -> None:
        if failure_mode not in ("open", "closed"):
            raise ValidationError(
                f"hook failure mode must be 'open' or 'closed', got {failure_mode!r}"
            )
        self.events = events
        self.failure_mode: FailureMode = failure_mode
        self.parent = parent
        self.correlation_id = correlation_id
        self._points = {_point_key(p): p for p in points}
        self._canonical = frozenset(points)
        self._hooks: dict[str, tuple[_Hook, ...]] = {}
        self._by_id: dict[str, _Hook] = {}
        # A child shares its parent's counter: equal priorities keep registration order.
        self._order: itertools.count[int] = itertools.count() if parent is None else parent._order

    def child(
        self, *, events: EventBus | None = None, correlation_id: str | None = None
    ) -> HookRegistry:
        """A registry for one run: this registry's hooks plus those registered on the child.
        Same points and failure mode; hook failures are published on ``events``."""
        return HookRegistry(
            events=events,
            failure_mode=self.failure_mode,
            points=tuple(self._points.values()),
            parent=self,
            correlation_id=correlation_id,
        )

    @classmethod
    def from_config(cls, config: Config, *, events: EventBus | None = None) -> HookRegistry:
        """A registry failing open or closed as ``[security] hook_failure`` says."""
        return cls(events=events, failure_mode=config.security.hook_failure)

    @property
    def points(self) -> list[str]:
        return list(self._points.values())

    def point_name(self, point: str) -> str:
        """The canonical name of a point; ``before_tool_execution`` and
        ``before-tool-execution`` name ``BeforeToolExecution``."""
        found = self._points.get(_point_key(point)) if isinstance(point, str) else None
        if found is None:
            raise ValidationError(
                f"unknown hook point {point!r} (known points: {', '.join(self._points.values())})"
            )
        return found

    def register(
        self,
        point: str,
        fn: HookFunction,
        priority: int | str = 0,
        name: str | None = None,
        *,
        language: str = "python",
    ) -> str:
        """Add a hook; returns its id. ``priority`` is a number (lower runs first) or one of
        ``highest``, ``high``, ``normal``, ``low``, ``lowest``."""
        canonical = self.point_name(point)
        if not callable(fn):
            raise ValidationError(f"hook at {canonical}: fn must be a function")
        hook_id = new_id("hook")
        hook = _Hook(
            id=hook_id,
            point=canonical,
            fn=fn,
            priority=_priority(priority),
            name=name or getattr(fn, "__name__", None) or hook_id,
            language=language,
            order=next(self._order),
        )
        hooks = list(self._hooks.get(canonical, ()))
        bisect.insort(hooks, hook, key=_Hook.sort_key)
        self._hooks[canonical] = tuple(hooks)
        self._by_id[hook_id] = hook
        return hook_id

    def unregister(self, hook_id: str) -> bool:
        """Remove a hook; False when no hook registered here has that id."""
        hook = self._by_id.pop(hook_id, None)
        if hook is None:
            return False
        self._hooks[hook.point] = tuple(h for h in self._hooks[hook.point] if h.id != hook_id)
        return True

    def list(self, filter: str | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """``{id, point, name, priority, language}`` of each hook in firing order.

        ``filter`` is a point name, or a table with any of ``point`` (or ``hook_point``),
        ``name``, ``language`` and ``priority``."""
        wanted: dict[str, Any] = {}
        if isinstance(filter, str):
            wanted["point"] = self.point_name(filter)
        elif isinstance(filter, Mapping):
            unknown = sorted(set(filter) - {"point", "hook_point", "name", "language", "priority"})
            if unknown:
                raise ValidationError(
                    f"hook filter: unknown key '{unknown[0]}' "
                    "(known keys: point, hook_point, name, language, priority)"
                )
            point = filter.get("point", filter.get("hook_point"))
            if point is not None:
                wanted["point"] = self.point_name(point)
            for key in ("name", "language"):
                if filter.get(key) is not None:
                    wanted[key] = filter[key]
            if filter.get("priority") is not None:
                wanted["priority"] = _priority(filter["priority"])
        elif filter is not None:
            raise ValidationError(f"hook filter must be a point name or a table, got {filter!r}")
        found = [h.info() for p in self._points.values() for h in self._chain(p)]
        return [info for info in found if all(info[k] == v for k, v in wanted.items())]

    def has_hooks(self, point: str) -> bool:
        return bool(self._chain(self.point_name(point)))

    def _fires(self, point: str) -> bool:
        """``has_hooks``, without the name lookup for a canonical point name."""
        if point not in self._canonical:
            point = self.point_name(point)
        registry: HookRegistry | None = self
        while registry is not None:
            if registry._hooks.get(point):
                return True
            registry = registry.parent
        return False

    def _chain(self, point: str) -> tuple[_Hook, ...]:
        """The hooks of a canonical point in firing order, the parent's included."""
        own = self._hooks.get(point, ())
        if self.parent is None:
            return own
        inherited = self.parent._chain(point)
        if not inherited:
            return own
        if not own:
            return inherited
        return tuple(heapq.merge(inherited, own, key=_Hook.sort_key))

    async def fire(self, point: str, data: dict[str, Any]) -> dict[str, Any]:
        """Run the hooks of ``point`` in order and return the data, as modified by them.

        Raises ``Cancelled`` (a hook cancelled), ``HookSkip`` (a hook skipped or replaced the
        call; no later hook runs), ``HookRetry`` (a hook asked for a retry) or, failing
        closed, ``HookError``."""
        hooks = self._chain(point if point in self._canonical else self.point_name(point))
        if not hooks:
            return data
        current = dict(data)
        correlation_id = _correlation.get() or self.correlation_id
        for hook in hooks:
            context = {
                "point": hook.point,
                "data": dict(current),
                "correlation_id": correlation_id,
                "hook": hook.name,
            }
            try:
                result = hook.fn(context)
                if inspect.isawaitable(result):
                    result = await result
                current = _apply(result, hook, current)
            except _PROPAGATED:
                raise
            except Exception as exc:
                self._failed(hook, exc)
        return current

    def _failed(self, hook: _Hook, exc: Exception) -> None:
        error = exc.lua_message() if isinstance(exc, LlmspellError) else f"{exc}"
        error = error or type(exc).__name__
        message = f"hook '{hook.name}' at {hook.point} failed: {error}"
        if self.events is not None:
            self.events.publish(
                "hook.failed",
                {
                    "point": hook.point,
                    "hook": hook.name,
                    "hook_id": hook.id,
                    "error": error,
                    "failure_mode": self.failure_mode,
                },
            )
        if self.failure_mode == "closed":
            raise HookError(message) from exc
        log.warning("%s (ignored: hook failures are open)", message)


_PROPAGATED = (Cancelled, HookSkip, HookRetry, BudgetExceeded, LimitExceeded)
"""What a hook may raise that is not a hook failure: its decision, or the end of the run."""


def _priority(value: Any) -> int:
    if isinstance(value, str) and value.lower() in PRIORITIES:
        return PRIORITIES[value.lower()]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValidationError(
            f"hook priority must be an integer or one of {', '.join(PRIORITIES)}, got {value!r}"
        )
    return int(value)


class _BadResult(Exception):
    """A hook returned something that is not a hook result (counts as a failing hook)."""


def _apply(result: Any, hook: _Hook, data: dict[str, Any]) -> dict[str, Any]:
    """The data after one hook's ``result``; raises for skip, replace, cancel and retry."""
    if result is None or result is True or result == "continue":
        return data
    if isinstance(result, str):
        if result in ("skip", "skipped"):
            raise HookSkip(None, point=hook.point, hook=hook.name)
        reason = f"cancelled by hook '{hook.name}'" if result == "cancel" else result
        raise Cancelled(f"{hook.point}: {reason}")
    if not isinstance(result, Mapping):
        raise _BadResult(f"returned {result!r}; expected 'continue', 'skip', a reason or a table")
    kind = result.get("type")
    if kind == "continue":
        return data
    if kind in ("modified", "modify"):
        changes = result.get("data")
        if changes is None:
            changes = {k: v for k, v in result.items() if k != "type"}
        if not isinstance(changes, Mapping):
            raise _BadResult(
                f"returned modified data of type {_type_name(changes)}; expected a table"
            )
        return {**data, **changes}
    if kind in ("skip", "skipped"):
        raise HookSkip(result.get("result"), point=hook.point, hook=hook.name)
    if kind == "replace":
        replacement = next((result[k] for k in ("data", "result", "value") if k in result), None)
        raise HookSkip(replacement, point=hook.point, hook=hook.name)
    if kind == "cancel":
        reason = result.get("reason") or f"cancelled by hook '{hook.name}'"
        raise Cancelled(f"{hook.point}: {reason}")
    if kind == "retry":
        raise HookRetry(*_retry_settings(result), point=hook.point, hook=hook.name)
    raise _BadResult(
        f"returned a table with type {kind!r}; expected continue, modified, replace, skip, "
        "cancel or retry"
    )


def _retry_settings(result: Mapping[str, Any]) -> tuple[float, int]:
    delay: Any = result.get("delay")
    if delay is None and result.get("delay_ms") is not None:
        delay = _number(result["delay_ms"], "delay_ms") / 1000
    delay = 0.0 if delay is None else _number(delay, "delay")
    attempts: Any = result.get("attempts", result.get("max_attempts", 1))
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
        raise _BadResult(f"retry attempts must be a non-negative integer, got {attempts!r}")
    return float(delay), attempts


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _BadResult(f"retry {key} must be a non-negative number, got {value!r}")
    return float(value)


# --- one operation between its hook points -------------------------------------------------------


async def call_with_hooks(
    hooks: HookRegistry | None,
    *,
    before: str,
    after: str,
    error: str,
    data: dict[str, Any],
    call: Callable[[dict[str, Any]], Awaitable[Any]],
    result_key: str = "result",
    present: Callable[[Any], Any] | None = None,
) -> Any:
    """Run ``call(data)`` between the hooks of three points and return its result.

    - ``before`` hooks may change ``data`` (what ``call`` receives), skip the call (their
      replacement is returned), cancel it, or delay it (retry).
    - when ``call`` raises, the ``error`` hooks see ``data`` plus ``error`` (message) and
      ``error_kind``; they may recover (skip/replace: their result is returned), ask for a
      retry of the whole call, or let the error propagate (any other result).
    - ``after`` hooks see ``data`` plus ``result_key`` (the result); they may change it
      (``modified``), replace it, or ask for a retry.

    A retry waits its ``delay`` and starts over from the ``before`` hooks, at most
    ``attempts`` times in a row; when no retry is left, the call's error is raised, or its
    last result returned.

    ``present`` turns the call's result into what the ``after`` hooks see (plain data, say);
    what they leave is returned. When no ``after`` hook is registered, the call's own result
    is returned as it is, and a point without hooks costs no more than a lookup."""
    if hooks is None:
        return await call(data)
    retries = 0
    while True:
        try:
            return await _hooked_once(hooks, before, after, error, data, call, result_key, present)
        except _RetryRequest as request:
            if retries >= request.retry.attempts:
                if request.error is not None:
                    raise request.error from None
                if request.has_result:
                    return request.result
                raise Cancelled(
                    f"{request.retry.point}: hook '{request.retry.hook}' asked for more "
                    f"retries than allowed ({request.retry.attempts})"
                ) from None
            retries += 1
            if request.retry.delay:
                await asyncio.sleep(request.retry.delay)


class _RetryRequest(Exception):
    """A hook's retry, with the error or the result of the attempt that led to it."""

    def __init__(
        self,
        retry: HookRetry,
        *,
        error: BaseException | None = None,
        has_result: bool = False,
        result: Any = None,
    ) -> None:
        super().__init__(str(retry))
        self.retry = retry
        self.error = error
        self.has_result = has_result
        self.result = result


async def _hooked_once(
    hooks: HookRegistry,
    before: str,
    after: str,
    error: str,
    data: dict[str, Any],
    call: Callable[[dict[str, Any]], Awaitable[Any]],
    result_key: str,
    present: Callable[[Any], Any] | None,
) -> Any:
    prepared = data
    if hooks._fires(before):
        try:
            prepared = await hooks.fire(before, data)
        except HookSkip as skip:
            return skip.result
        except HookRetry as retry:
            raise _RetryRequest(retry) from None
    try:
        result = await call(prepared)
    except Exception as exc:
        if not hooks._fires(error):
            raise
        failure = {
            **prepared,
            "error": str(exc),
            "error_kind": exc.kind if isinstance(exc, LlmspellError) else type(exc).__name__,
        }
        try:
            await hooks.fire(error, failure)
        except HookSkip as skip:
            return skip.result
        except HookRetry as retry:
            raise _RetryRequest(retry, error=exc) from None
        raise
    if not hooks._fires(after):
        return result
    if present is not None:
        result = present(result)
    try:
        finished = await hooks.fire(after, {**prepared, result_key: result})
    except HookSkip as skip:
        return skip.result
    except HookRetry as retry:
        raise _RetryRequest(retry, has_result=True, result=result) from None
    return finished.get(result_key, result)
