import asyncio
import inspect

import pytest

from llmspell_utils.timeouts import Deadline, OperationTimeout, with_timeout


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_returns_the_result_in_time() -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 42

    assert await with_timeout(work(), 1.0, "work") == 42


async def test_expiry_raises_operation_timeout_and_cancels_the_work() -> None:
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(OperationTimeout) as info:
        await with_timeout(slow(), 0.01, "tool 'http' timed out after 0.01s")
    assert str(info.value) == "tool 'http' timed out after 0.01s"
    assert info.value.message == "tool 'http' timed out after 0.01s"
    assert info.value.seconds == 0.01
    assert isinstance(info.value, asyncio.TimeoutError)
    assert cancelled.is_set()


async def test_none_means_no_limit() -> None:
    async def work() -> str:
        await asyncio.sleep(0.02)
        return "done"

    assert await with_timeout(work(), None, "never") == "done"


async def test_timeout_error_from_the_work_itself_is_not_relabelled() -> None:
    async def work() -> None:
        raise TimeoutError("inner")

    with pytest.raises(TimeoutError, match="inner") as info:
        await with_timeout(work(), 5.0, "outer")
    assert not isinstance(info.value, OperationTimeout)


async def test_negative_seconds_rejected_and_coroutine_closed() -> None:
    async def work() -> None:
        return None

    coro = work()
    with pytest.raises(ValueError, match="seconds"):
        await with_timeout(coro, -1.0, "x")
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


def test_deadline_counts_down_and_expires() -> None:
    clock = FakeClock()
    deadline = Deadline(5.0, clock=clock)
    assert deadline.remaining() == 5.0
    assert not deadline.expired
    deadline.check("run")
    clock.now += 3.0
    assert deadline.remaining() == pytest.approx(2.0)
    assert deadline.elapsed() == pytest.approx(3.0)
    clock.now += 2.5
    assert deadline.remaining() == 0.0
    assert deadline.expired
    with pytest.raises(OperationTimeout, match="run exceeded its 5s budget"):
        deadline.check("run exceeded its 5s budget")


def test_deadline_cap_bounds_a_step_by_what_is_left() -> None:
    clock = FakeClock()
    deadline = Deadline(10.0, clock=clock)
    clock.now += 8.0
    assert deadline.cap(5.0) == pytest.approx(2.0)
    assert deadline.cap(1.0) == 1.0
    assert deadline.cap(None) == pytest.approx(2.0)


def test_no_deadline_never_expires() -> None:
    clock = FakeClock()
    deadline = Deadline(None, clock=clock)
    clock.now += 1e9
    assert deadline.remaining() is None
    assert not deadline.expired
    assert deadline.cap(3.0) == 3.0
    assert deadline.cap(None) is None
    deadline.check("never")


def test_deadline_rejects_negative_seconds() -> None:
    with pytest.raises(ValueError, match="seconds"):
        Deadline(-0.5)


async def test_deadline_feeds_with_timeout() -> None:
    deadline = Deadline(0.01)
    with pytest.raises(OperationTimeout, match="step 'fetch'"):
        await with_timeout(asyncio.sleep(5), deadline.cap(10.0), "step 'fetch' ran out of time")
    assert deadline.expired


def test_with_timeout_closes_a_coroutine_it_never_started():
    async def inner() -> int:
        return 1

    coro = inner()
    outer = with_timeout(coro, 1.0, "inner")
    with pytest.raises(RuntimeError):  # asyncio.timeout outside a task: fails before awaiting
        outer.send(None)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
