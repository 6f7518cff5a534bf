"""Retries, per-call timeouts, circuit breakers and fallbacks around providers.

- Retries use ``llmspell_utils.retry.retry_async`` (exponential backoff with full jitter) on
  retryable ``ProviderError`` s, waiting what the server's ``Retry-After`` asks for; an error
  whose ``Retry-After`` exceeds ``max_delay`` is raised at once, so fallbacks can take over.
- A stream is retried only until its first event: once text reached the caller, a failure is
  raised (as ``StreamInterrupted`` by the backends) rather than replayed.
- The per-call timeout bounds a whole ``complete`` and a stream's wait for its first event;
  gaps between later events are bounded by the backend's own read timeout.
- One circuit breaker per endpoint, shared by every provider object that talks to it: after
  ``failure_threshold`` consecutive failures (unavailable, timeout, interrupted stream; not rate
  limits, which say the endpoint is alive) it opens and fails calls at once; after ``cooldown``
  seconds one trial call is let through (half-open), and its outcome closes or reopens it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from llmspell.core.errors import (
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from llmspell_utils.retry import retry_async
from llmspell_utils.timeouts import OperationTimeout, with_timeout

if TYPE_CHECKING:
    from llmspell.core.types import Capabilities, ChatRequest, ChatResponse, StreamEvent
    from llmspell.providers.base import Provider

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_retries`` retries after the first try; ``timeout`` seconds per call (None: none)."""

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float | None = 60.0


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failures → half-open after
    ``cooldown`` seconds (one trial call) → closed on success, open again on failure."""

    def __init__(
        self,
        endpoint: str,
        *,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        self.endpoint = endpoint
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half_open"
        return "open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def before_call(self) -> None:
        """Raise ``ProviderUnavailable`` (not retryable) while open, or while the half-open
        trial call is still running."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half_open" and not self._trial_running:
                self._trial_running = True
                return
            assert self._opened_at is not None
            wait = max(0.0, self.cooldown - (self._clock() - self._opened_at))
        exc = ProviderUnavailable(
            f"circuit breaker for '{self.endpoint}' is open after {self._failures} consecutive "
            f"failures; next trial in {wait:.1f} s"
        )
        exc.retryable = False
        raise exc

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._trial_running = False

    def release_trial(self) -> None:
        """End a half-open trial whose outcome says nothing about the endpoint's health."""
        with self._lock:
            self._trial_running = False


_BREAKERS: dict[str, CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(
    endpoint: str, *, failure_threshold: int = 5, cooldown: float = 30.0
) -> CircuitBreaker:
    """The process-wide breaker of ``endpoint`` (created with these settings on first use)."""
    with _BREAKERS_LOCK:
        breaker = _BREAKERS.get(endpoint)
        if breaker is None:
            breaker = CircuitBreaker(
                endpoint, failure_threshold=failure_threshold, cooldown=cooldown
            )
            _BREAKERS[endpoint] = breaker
        return breaker


def reset_breakers() -> None:
    """Forget every endpoint's breaker (tests, and long-lived hosts after a config reload)."""
    with _BREAKERS_LOCK:
        _BREAKERS.clear()


def counts_against_endpoint(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable and not isinstance(exc, RateLimited)


class Resilience:
    """Applies a ``RetryPolicy`` and an optional breaker to calls and streams of one provider."""

    def __init__(
        self, name: str, policy: RetryPolicy, breaker: CircuitBreaker | None = None
    ) -> None:
        self.name = name
        self.policy = policy
        self.breaker = breaker

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, ProviderError) or not exc.retryable:
            return False
        return exc.retry_after is None or exc.retry_after <= self.policy.max_delay

    @staticmethod
    def _retry_after(exc: BaseException) -> float | None:
        return exc.retry_after if isinstance(exc, ProviderError) else None

    async def _guarded(self, fn: Callable[[], Awaitable[T]], what: str) -> T:
        breaker = self.breaker
        if breaker is not None:
            breaker.before_call()
        try:
            result = await with_timeout(fn(), self.policy.timeout, what)
        except OperationTimeout:
            if breaker is not None:
                breaker.record_failure()
            raise ProviderTimeout(
                f"provider '{self.name}' did not answer within {self.policy.timeout:g} s"
            ) from None
        except BaseException as exc:
            if breaker is not None:
                if counts_against_endpoint(exc):
                    breaker.record_failure()
                else:
                    breaker.release_trial()
            raise
        if breaker is not None:
            breaker.record_success()
        return result

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` with timeout, breaker and retries."""
        return await retry_async(
            lambda: self._guarded(fn, f"provider '{self.name}' call"),
            attempts=self.policy.max_retries + 1,
            base_delay=self.policy.base_delay,
            max_delay=self.policy.max_delay,
            retry_on=self._should_retry,
            retry_after=self._retry_after,
        )

    async def stream(
        self, factory: Callable[[], AsyncIterator[StreamEvent]]
    ) -> AsyncIterator[StreamEvent]:
        """Events of ``factory()``; retried (with a fresh stream) until the first event."""

        async def open_stream() -> tuple[AsyncIterator[StreamEvent], StreamEvent | None]:
            events = factory()
            try:
                first = await anext(events)
            except StopAsyncIteration:
                return events, None
            except BaseException:
                await _aclose(events)
                raise
            return events, first

        events, first = await retry_async(
            lambda: self._guarded(open_stream, f"provider '{self.name}' first stream event"),
            attempts=self.policy.max_retries + 1,
            base_delay=self.policy.base_delay,
            max_delay=self.policy.max_delay,
            retry_on=self._should_retry,
            retry_after=self._retry_after,
        )
        if first is None:
            return
        try:
            yield first
            async for event in events:
                yield event
        except BaseException as exc:
            if self.breaker is not None and counts_against_endpoint(exc):
                self.breaker.record_failure()
            raise
        finally:
            await _aclose(events)


async def _aclose(events: AsyncIterator[StreamEvent]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


class ResilientProvider:
    """Any provider with retries, a per-call timeout and an optional circuit breaker."""

    def __init__(
        self, inner: Provider, policy: RetryPolicy, breaker: CircuitBreaker | None = None
    ) -> None:
        self.inner = inner
        self._resilience = Resilience(inner.name, policy, breaker)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def complete(self, request: ChatRequest) -> ChatResponse:
        return await self._resilience.call(lambda: self.inner.complete(request))

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        return self._resilience.stream(lambda: self.inner.stream(request))

    async def aclose(self) -> None:
        await self.inner.aclose()


class FallbackProvider:
    """Tries the primary provider, then each ``(provider, model)`` fallback in order, on any
    ``ProviderError``. A stream switches only before its first event."""

    def __init__(self, primary: Provider, fallbacks: list[tuple[Provider, str]]) -> None:
        self.primary = primary
        self.fallbacks = fallbacks

    @property
    def name(self) -> str:
        return self.primary.name

    @property
    def capabilities(self) -> Capabilities:
        return self.primary.capabilities

    def _chain(self, request: ChatRequest) -> list[tuple[Provider, ChatRequest]]:
        chain: list[tuple[Provider, ChatRequest]] = [(self.primary, request)]
        for provider, model in self.fallbacks:
            chain.append((provider, request.model_copy(update={"model": model})))
        return chain

    async def complete(self, request: ChatRequest) -> ChatResponse:
        errors: list[str] = []
        for provider, req in self._chain(request):
            try:
                return await provider.complete(req)
            except ProviderError as exc:
                errors.append(f"{provider.name}/{req.model or '<default>'}: {exc.lua_message()}")
                last = exc
        raise _all_failed(last, errors)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        errors: list[str] = []
        for provider, req in self._chain(request):
            started = False
            try:
                async for event in provider.stream(req):
                    started = True
                    yield event
                return
            except ProviderError as exc:
                if started:
                    raise
                errors.append(f"{provider.name}/{req.model or '<default>'}: {exc.lua_message()}")
                last = exc
        raise _all_failed(last, errors)

    async def aclose(self) -> None:
        await self.primary.aclose()
        for provider, _ in self.fallbacks:
            await provider.aclose()


def _all_failed(last: ProviderError, errors: list[str]) -> ProviderError:
    if len(errors) == 1:
        return last
    exc = type(last)("every provider failed: " + "; ".join(errors), retry_after=last.retry_after)
    exc.retryable = last.retryable
    return exc
