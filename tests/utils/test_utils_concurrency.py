import asyncio
import inspect
import itertools
from collections.abc import Coroutine
from typing import Any

import pytest

from llmspell_utils.concurrency import concurrent_map, gather_bounded


class InFlight:
    """Counts how many calls run at once."""

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0

    async def run(self, value: int, delay: float) -> int:
        self.current += 1
        self.peak = max(self.peak, self.current)
        try:
            await asyncio.sleep(delay)
            return value * 10
        finally:
            self.current -= 1


async def test_results_follow_input_order_not_completion_order() -> None:
    async def fn(i: int) -> int:
        await asyncio.sleep(0.002 * (5 - i))
        return i * i

    assert await concurrent_map(fn, range(6), limit=6) == [0, 1, 4, 9, 16, 25]


async def test_at_most_limit_calls_in_flight() -> None:
    meter = InFlight()
    results = await concurrent_map(lambda i: meter.run(i, 0.003), range(12), limit=3)
    assert results == [i * 10 for i in range(12)]
    assert meter.peak == 3


async def test_limit_above_item_count() -> None:
    meter = InFlight()
    assert await concurrent_map(lambda i: meter.run(i, 0.001), [1, 2], limit=50) == [10, 20]
    assert meter.peak == 2


async def test_empty_input() -> None:
    async def fn(i: int) -> int:
        return i

    assert await concurrent_map(fn, [], limit=4) == []


async def test_first_error_cancels_the_rest_and_is_reraised() -> None:
    cancelled: list[int] = []
    started: list[int] = []
    error = RuntimeError("item 1 failed")

    async def fn(i: int) -> int:
        started.append(i)
        try:
            if i == 1:
                await asyncio.sleep(0.005)
                raise error
            await asyncio.sleep(5)
            return i
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(RuntimeError) as info:
        await concurrent_map(fn, range(10), limit=3)
    assert info.value is error
    assert loop.time() - began < 2
    assert sorted(cancelled) == [0, 2]
    assert started == [0, 1, 2]


async def test_the_earliest_failure_wins() -> None:
    async def fn(i: int) -> int:
        await asyncio.sleep(0.001 if i == 2 else 0.02)
        raise ValueError(f"item {i}")

    with pytest.raises(ValueError, match="item 2"):
        await concurrent_map(fn, range(3), limit=3)


async def test_items_are_consumed_lazily() -> None:
    async def fn(i: int) -> int:
        await asyncio.sleep(0)
        if i == 5:
            raise LookupError("stop at 5")
        return i

    with pytest.raises(LookupError, match="stop at 5"):
        await concurrent_map(fn, itertools.count(), limit=2)


async def test_outer_cancellation_cancels_running_calls() -> None:
    cancelled: list[int] = []

    async def fn(i: int) -> int:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise
        return i

    task = asyncio.create_task(concurrent_map(fn, range(4), limit=2))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cancelled) == [0, 1]


@pytest.mark.parametrize("limit", [0, -1, True, 1.5])
async def test_rejects_bad_limit(limit: Any) -> None:
    async def fn(i: int) -> int:
        return i

    with pytest.raises(ValueError, match="limit"):
        await concurrent_map(fn, [1], limit=limit)


async def test_gather_bounded_orders_and_bounds() -> None:
    meter = InFlight()
    coros = [meter.run(i, 0.002 * (8 - i)) for i in range(8)]
    assert await gather_bounded(coros, limit=2) == [i * 10 for i in range(8)]
    assert meter.peak == 2


async def test_gather_bounded_closes_unstarted_coroutines_on_failure() -> None:
    async def fail() -> int:
        await asyncio.sleep(0)
        raise KeyError("boom")

    async def later() -> int:
        await asyncio.sleep(5)
        return 1

    rest = [later() for _ in range(3)]
    coros: list[Coroutine[Any, Any, int]] = [fail(), *rest]
    with pytest.raises(KeyError, match="boom"):
        await gather_bounded(coros, limit=1)
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in rest)
