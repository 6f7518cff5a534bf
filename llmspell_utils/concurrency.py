"""Bounded concurrency: run many awaitables with at most ``limit`` in flight at once.

Both helpers return results in input order. The first failure cancels the work still running,
waits for it to unwind, and is re-raised as is (not wrapped in an ``ExceptionGroup``). Items
are taken from ``items`` lazily, so a long or endless iterator is consumed only as fast as
workers free up.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an integer of at least 1, got {limit!r}")


async def concurrent_map(
    fn: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int
) -> list[R]:
    """``[await fn(item) for item in items]`` with at most ``limit`` calls running at once."""
    _check_limit(limit)
    source = enumerate(items)
    results: dict[int, R] = {}
    failures: list[BaseException] = []

    async def worker() -> None:
        for index, item in source:
            try:
                results[index] = await fn(item)
            except Exception as exc:
                failures.append(exc)
                raise

    workers = [asyncio.create_task(worker()) for _ in range(limit)]
    try:
        await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.wait(workers)
    if failures:
        raise failures[0]
    if any(task.cancelled() for task in workers):
        raise asyncio.CancelledError("an item of concurrent_map was cancelled")
    return [results[index] for index in range(len(results))]


async def gather_bounded(coros: Iterable[Awaitable[R]], limit: int) -> list[R]:
    """Await ``coros`` with at most ``limit`` running at once; results in input order.

    Coroutines never started because of an earlier failure are closed, so no "coroutine was
    never awaited" warning is left behind.
    """
    _check_limit(limit)
    pending = list(coros)

    async def run(awaitable: Awaitable[R]) -> R:
        return await awaitable

    try:
        return await concurrent_map(run, pending, limit)
    finally:
        for awaitable in pending:
            if inspect.iscoroutine(awaitable) and (
                inspect.getcoroutinestate(awaitable) == inspect.CORO_CREATED
            ):
                awaitable.close()
