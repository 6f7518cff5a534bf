"""Timeouts with messages that say what timed out, and deadlines shared by several steps."""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class OperationTimeout(asyncio.TimeoutError):
    """An operation ran out of time. ``message`` says which; ``seconds`` is the limit, if known.

    A subclass of ``asyncio.TimeoutError`` (the builtin ``TimeoutError``), so code that catches
    either keeps working.
    """

    def __init__(self, message: str, seconds: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.seconds = seconds

    def __str__(self) -> str:
        return self.message


CREATED = inspect.CORO_CREATED


def _check_seconds(seconds: float | None, name: str) -> None:
    if seconds is not None and (math.isnan(seconds) or seconds < 0):
        raise ValueError(f"{name} must be a non-negative number of seconds or None, got {seconds}")


async def with_timeout(awaitable: Awaitable[T], seconds: float | None, message: str) -> T:
    """Await ``awaitable`` for at most ``seconds`` (``None``: no limit).

    On expiry the awaitable is cancelled and :class:`OperationTimeout` carrying ``message`` is
    raised. A ``TimeoutError`` raised by the awaitable itself passes through untouched.
    """
    try:
        _check_seconds(seconds, "seconds")
        if seconds is None:
            return await awaitable
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await awaitable
        except TimeoutError:
            if scope.expired():
                raise OperationTimeout(message, seconds) from None
            raise
    finally:
        # Failed or cancelled before it started: close the coroutine, never leave it unawaited.
        if inspect.iscoroutine(awaitable) and inspect.getcoroutinestate(awaitable) == CREATED:
            awaitable.close()


class Deadline:
    """A point in time, on the monotonic clock, by which a whole piece of work must finish.

    ``Deadline(None)`` never expires, so callers need no special case for "no limit". Pass
    ``deadline.remaining()`` (or ``deadline.cap(step_limit)``) to :func:`with_timeout` to bound
    each step by what is left of the whole.
    """

    def __init__(
        self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        _check_seconds(seconds, "seconds")
        self._clock = clock
        self.seconds = seconds
        self._start = clock()
        self._end = None if seconds is None else self._start + seconds

    def elapsed(self) -> float:
        """Seconds since the deadline was created."""
        return self._clock() - self._start

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` when there is no deadline."""
        if self._end is None:
            return None
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self._end is not None and self._clock() >= self._end

    def cap(self, seconds: float | None) -> float | None:
        """The smaller of ``seconds`` and the time remaining (``None`` means unbounded)."""
        _check_seconds(seconds, "seconds")
        left = self.remaining()
        if left is None:
            return seconds
        if seconds is None:
            return left
        return min(seconds, left)

    def check(self, message: str) -> None:
        """Raise :class:`OperationTimeout` with ``message`` if the deadline has passed."""
        if self.expired:
            raise OperationTimeout(message, self.seconds)
