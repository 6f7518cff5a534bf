"""Retrying a call with exponential backoff and full jitter, built on tenacity.

Only ``Exception`` instances are ever retried: cancellation, ``KeyboardInterrupt`` and
``SystemExit`` always propagate at once, whatever ``retry_on`` says. When the retries are used
up, the last exception is re-raised unchanged (never wrapped in a tenacity error).

tenacity is imported inside the functions so that importing this module stays free.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")

RetryPredicate = Callable[[BaseException], bool]
RetryAfter = Callable[[BaseException], float | None]
OnRetry = Callable[[int, BaseException, float], None]
"""Called before each wait with the number of the failed attempt (1-based), its exception and
the delay in seconds about to be slept."""


def _always(exc: BaseException) -> bool:
    return True


def backoff_delay(
    attempt: int,
    *,
    base_delay: float,
    max_delay: float,
    multiplier: float,
    jitter: bool,
) -> float:
    """The wait after failed attempt number ``attempt`` (1-based).

    ``base_delay * multiplier ** (attempt - 1)`` capped at ``max_delay``; with ``jitter`` a
    uniform draw between 0 and that value ("full jitter"), which spreads out clients that
    failed together.
    """
    ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1))
    return random.uniform(0.0, ceiling) if jitter else ceiling


def _check_settings(attempts: int, base_delay: float, max_delay: float, multiplier: float) -> None:
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if base_delay < 0:
        raise ValueError(f"base_delay must not be negative, got {base_delay}")
    if max_delay < 0:
        raise ValueError(f"max_delay must not be negative, got {max_delay}")
    if multiplier < 1:
        raise ValueError(f"multiplier must be at least 1, got {multiplier}")


class _Policy:
    """The tenacity callbacks shared by the async and the sync form."""

    def __init__(
        self,
        *,
        base_delay: float,
        max_delay: float,
        multiplier: float,
        jitter: bool,
        retry_on: RetryPredicate,
        retry_after: RetryAfter | None,
        on_retry: OnRetry | None,
    ) -> None:
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._multiplier = multiplier
        self._jitter = jitter
        self._retry_on = retry_on
        self._retry_after = retry_after
        self._on_retry = on_retry

    def should_retry(self, state: RetryCallState) -> bool:
        exc = _failure(state)
        return isinstance(exc, Exception) and self._retry_on(exc)

    def wait(self, state: RetryCallState) -> float:
        exc = _failure(state)
        if self._retry_after is not None and exc is not None:
            hinted = self._retry_after(exc)
            if hinted is not None:
                return max(0.0, float(hinted))
        return backoff_delay(
            state.attempt_number,
            base_delay=self._base_delay,
            max_delay=self._max_delay,
            multiplier=self._multiplier,
            jitter=self._jitter,
        )

    def before_sleep(self, state: RetryCallState) -> None:
        exc = _failure(state)
        if self._on_retry is not None and exc is not None and state.next_action is not None:
            self._on_retry(state.attempt_number, exc, state.next_action.sleep)


def _failure(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return None
    return outcome.exception()


async def retry_async(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    multiplier: float = 2.0,
    jitter: bool = True,
    retry_on: RetryPredicate = _always,
    retry_after: RetryAfter | None = None,
    on_retry: OnRetry | None = None,
) -> T:
    """Await ``fn()`` up to ``attempts`` times in total and return its first result.

    After a failure for which ``retry_on(exc)`` is true, wait ``retry_after(exc)`` seconds when
    that gives a number (e.g. a server's Retry-After), else the jittered exponential backoff.
    """
    from tenacity import AsyncRetrying, stop_after_attempt

    _check_settings(attempts, base_delay, max_delay, multiplier)
    policy = _Policy(
        base_delay=base_delay,
        max_delay=max_delay,
        multiplier=multiplier,
        jitter=jitter,
        retry_on=retry_on,
        retry_after=retry_after,
        on_retry=on_retry,
    )

    async def call() -> T:
        return await fn()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=policy.wait,
        retry=policy.should_retry,
        before_sleep=policy.before_sleep,
        reraise=True,
    )
    result: T = await retrying(call)
    return result


def retry(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    multiplier: float = 2.0,
    jitter: bool = True,
    retry_on: RetryPredicate = _always,
    retry_after: RetryAfter | None = None,
    on_retry: OnRetry | None = None,
) -> T:
    """The blocking form of :func:`retry_async` for a zero-argument synchronous ``fn``."""
    from tenacity import Retrying, stop_after_attempt

    _check_settings(attempts, base_delay, max_delay, multiplier)
    policy = _Policy(
        base_delay=base_delay,
        max_delay=max_delay,
        multiplier=multiplier,
        jitter=jitter,
        retry_on=retry_on,
        retry_after=retry_after,
        on_retry=on_retry,
    )
    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=policy.wait,
        retry=policy.should_retry,
        before_sleep=policy.before_sleep,
        reraise=True,
    )
    result: T = retrying(fn)
    return result
