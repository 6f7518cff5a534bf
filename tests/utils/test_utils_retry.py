import asyncio
import random
import time

import pytest

from llmspell_utils.retry import backoff_delay, retry, retry_async


class Flaky:
    """Fails ``failures`` times (each with a numbered message), then returns ``"ok"``."""

    def __init__(self, failures: int, exc_type: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.exc_type = exc_type
        self.calls = 0

    def step(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc_type(f"failure {self.calls}")
        return "ok"

    async def __call__(self) -> str:
        await asyncio.sleep(0)
        return self.step()


async def test_returns_after_transient_failures() -> None:
    fn = Flaky(2)
    assert await retry_async(fn, attempts=3, base_delay=0.001) == "ok"
    assert fn.calls == 3


async def test_gives_up_after_attempts_and_reraises_last_error() -> None:
    fn = Flaky(10)
    with pytest.raises(ConnectionError, match="failure 4"):
        await retry_async(fn, attempts=4, base_delay=0.001)
    assert fn.calls == 4


async def test_single_attempt_does_not_retry() -> None:
    fn = Flaky(1)
    with pytest.raises(ConnectionError, match="failure 1"):
        await retry_async(fn, attempts=1, base_delay=0.001)
    assert fn.calls == 1


async def test_retry_on_false_raises_at_once() -> None:
    fn = Flaky(5, ValueError)
    with pytest.raises(ValueError, match="failure 1"):
        await retry_async(
            fn, attempts=5, base_delay=0.001, retry_on=lambda e: isinstance(e, ConnectionError)
        )
    assert fn.calls == 1


async def test_cancellation_is_never_retried() -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await retry_async(fn, attempts=5, base_delay=0.001)
    assert calls == 1


async def test_retry_after_overrides_backoff() -> None:
    fn = Flaky(2)
    waits: list[tuple[int, str, float]] = []
    started = time.monotonic()
    result = await retry_async(
        fn,
        attempts=3,
        base_delay=30.0,
        retry_after=lambda e: 0.01,
        on_retry=lambda n, e, d: waits.append((n, str(e), d)),
    )
    assert result == "ok"
    assert time.monotonic() - started < 5
    assert waits == [(1, "failure 1", 0.01), (2, "failure 2", 0.01)]


async def test_retry_after_none_falls_back_to_exponential_backoff() -> None:
    fn = Flaky(3)
    delays: list[float] = []
    await retry_async(
        fn,
        attempts=4,
        base_delay=0.002,
        multiplier=3.0,
        jitter=False,
        retry_after=lambda e: None,
        on_retry=lambda n, e, d: delays.append(d),
    )
    assert delays == pytest.approx([0.002, 0.006, 0.018])


async def test_backoff_is_capped_by_max_delay() -> None:
    fn = Flaky(3)
    delays: list[float] = []
    await retry_async(
        fn,
        attempts=4,
        base_delay=0.004,
        max_delay=0.005,
        jitter=False,
        on_retry=lambda n, e, d: delays.append(d),
    )
    assert delays == pytest.approx([0.004, 0.005, 0.005])


async def test_accepts_a_plain_callable_returning_a_coroutine() -> None:
    fn = Flaky(1)
    assert await retry_async(lambda: fn(), attempts=2, base_delay=0.001) == "ok"
    assert fn.calls == 2


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    random.seed(7)
    draws = [
        backoff_delay(3, base_delay=1.0, max_delay=30.0, multiplier=2.0, jitter=True)
        for _ in range(200)
    ]
    assert all(0.0 <= d <= 4.0 for d in draws)
    assert len(set(draws)) > 100


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"attempts": 0}, "attempts"),
        ({"base_delay": -1.0}, "base_delay"),
        ({"max_delay": -1.0}, "max_delay"),
        ({"multiplier": 0.5}, "multiplier"),
    ],
)
async def test_rejects_bad_settings(kwargs: dict[str, float], name: str) -> None:
    fn = Flaky(0)
    with pytest.raises(ValueError, match=name):
        await retry_async(fn, **kwargs)  # type: ignore[arg-type]
    assert fn.calls == 0


def test_sync_retry_honours_attempts_and_retry_after() -> None:
    fn = Flaky(2)
    waits: list[float] = []
    result = retry(
        fn.step,
        attempts=3,
        base_delay=30.0,
        retry_after=lambda e: 0.001,
        on_retry=lambda n, e, d: waits.append(d),
    )
    assert result == "ok"
    assert fn.calls == 3
    assert waits == [0.001, 0.001]


def test_sync_retry_reraises_last_error() -> None:
    fn = Flaky(9)
    with pytest.raises(ConnectionError, match="failure 2"):
        retry(fn.step, attempts=2, base_delay=0.001)
    assert fn.calls == 2
