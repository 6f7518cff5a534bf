"""Retries, timeouts, the circuit breaker and fallbacks, with injected failures."""

from __future__ import annotations

import asyncio
import time

import pytest

from llmspell.core.errors import (
    AuthenticationError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from llmspell.core.types import ChatMessage, ChatRequest, StreamFinish, TextDelta
from llmspell.providers.base import collect
from llmspell.providers.resilience import (
    CircuitBreaker,
    FallbackProvider,
    ResilientProvider,
    RetryPolicy,
    breaker_for,
)
from llmspell.providers.scripted import ScriptedProvider

FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=1.0, timeout=2.0)


def hello() -> ChatRequest:
    return ChatRequest(model="m", messages=[ChatMessage.user("hello")])


def state_of(breaker: CircuitBreaker) -> str:
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_429_twice_then_success_honours_retry_after() -> None:
    script = ScriptedProvider().fail("rate_limited", times=2, retry_after=0.1).reply("done")
    provider = ResilientProvider(script, FAST)
    start = time.monotonic()
    response = await provider.complete(hello())
    elapsed = time.monotonic() - start
    assert response.text == "done"
    assert len(script.requests) == 3
    assert elapsed >= 0.2  # two waits of Retry-After 0.1 s, not the 0.01 s backoff


async def test_retries_give_up_after_max_retries() -> None:
    script = ScriptedProvider().fail("unavailable", times=5).reply("never")
    provider = ResilientProvider(script, RetryPolicy(max_retries=2, base_delay=0.001))
    with pytest.raises(ProviderUnavailable):
        await provider.complete(hello())
    assert len(script.requests) == 3
    assert script.remaining == 3


async def test_retry_after_longer_than_max_delay_is_raised_at_once() -> None:
    script = ScriptedProvider().fail("rate_limited", retry_after=60).reply("later")
    provider = ResilientProvider(script, FAST)
    start = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        await provider.complete(hello())
    assert caught.value.retry_after == 60
    assert time.monotonic() - start < 0.5
    assert len(script.requests) == 1


async def test_non_retryable_errors_are_not_retried() -> None:
    script = ScriptedProvider().fail("auth").reply("never")
    with pytest.raises(AuthenticationError):
        await ResilientProvider(script, FAST).complete(hello())
    assert len(script.requests) == 1


async def test_per_call_timeout() -> None:
    script = ScriptedProvider().push({"text": "slow", "delay": 2.0}).reply("fast")
    provider = ResilientProvider(script, RetryPolicy(max_retries=1, base_delay=0.001, timeout=0.1))
    start = time.monotonic()
    response = await provider.complete(hello())
    assert response.text == "fast"
    assert time.monotonic() - start < 1.0
    only_once = ResilientProvider(
        ScriptedProvider().push({"text": "slow", "delay": 2.0}),
        RetryPolicy(max_retries=0, timeout=0.1),
    )
    with pytest.raises(ProviderTimeout, match=r"within 0\.1 s"):
        await only_once.complete(hello())


async def test_stream_is_retried_until_its_first_event() -> None:
    script = ScriptedProvider().fail("unavailable", times=2).push({"chunks": ["a", "b"]})
    events = [e async for e in ResilientProvider(script, FAST).stream(hello())]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["a", "b"]
    assert isinstance(events[-1], StreamFinish)
    assert len(script.requests) == 3


async def test_stream_is_not_replayed_after_text_was_delivered() -> None:
    script = ScriptedProvider().push({"chunks": ["a", "b", "c"], "interrupt_after": 1}).reply("x")
    received: list[str] = []
    with pytest.raises(StreamInterrupted):
        async for event in ResilientProvider(script, FAST).stream(hello()):
            if isinstance(event, TextDelta):
                received.append(event.text)
    assert received == ["a"]
    assert len(script.requests) == 1


async def test_stream_timeout_for_the_first_event() -> None:
    script = ScriptedProvider().push({"text": "slow", "delay": 2.0})
    provider = ResilientProvider(script, RetryPolicy(max_retries=0, timeout=0.1))
    with pytest.raises(ProviderTimeout):
        [e async for e in provider.stream(hello())]


def test_breaker_opens_then_half_opens_then_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker("http://x", failure_threshold=2, cooldown=10, clock=clock)
    breaker.before_call()
    breaker.record_failure()
    assert breaker.consecutive_failures == 1
    assert state_of(breaker) == "closed"
    breaker.record_failure()
    assert state_of(breaker) == "open"
    with pytest.raises(ProviderUnavailable, match="circuit breaker for 'http://x' is open"):
        breaker.before_call()
    clock.now += 10
    assert state_of(breaker) == "half_open"
    breaker.before_call()  # the one trial call
    with pytest.raises(ProviderUnavailable):
        breaker.before_call()  # a second caller while the trial runs
    breaker.record_success()
    assert state_of(breaker) == "closed"
    breaker.before_call()


def test_failed_trial_reopens_the_breaker() -> None:
    clock = Clock()
    breaker = CircuitBreaker("e", failure_threshold=3, cooldown=5, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 5
    breaker.before_call()
    breaker.record_failure()
    assert state_of(breaker) == "open"
    clock.now += 4.9
    assert state_of(breaker) == "open"


async def test_breaker_fails_fast_without_calling_the_provider() -> None:
    script = ScriptedProvider().fail("unavailable", times=10)
    breaker = CircuitBreaker("scripted:test", failure_threshold=3, cooldown=0.2)
    provider = ResilientProvider(script, RetryPolicy(max_retries=0), breaker)
    for _ in range(3):
        with pytest.raises(ProviderUnavailable, match="injected"):
            await provider.complete(hello())
    assert state_of(breaker) == "open"
    with pytest.raises(ProviderUnavailable, match="circuit breaker") as caught:
        await provider.complete(hello())
    assert caught.value.retryable is False
    assert len(script.requests) == 3  # the open breaker did not reach the provider
    script.clear()
    script.reply("healthy again")
    await asyncio.sleep(0.25)
    assert (await provider.complete(hello())).text == "healthy again"
    assert state_of(breaker) == "closed"


async def test_rate_limits_do_not_open_the_breaker() -> None:
    script = ScriptedProvider().fail("rate_limited", times=5)
    breaker = CircuitBreaker("s", failure_threshold=2)
    provider = ResilientProvider(script, RetryPolicy(max_retries=0), breaker)
    for _ in range(3):
        with pytest.raises(RateLimited):
            await provider.complete(hello())
    assert state_of(breaker) == "closed"


def test_breakers_are_shared_per_endpoint() -> None:
    a = breaker_for("http://127.0.0.1:1/v1")
    assert breaker_for("http://127.0.0.1:1/v1") is a
    assert breaker_for("http://127.0.0.1:2/v1") is not a


async def test_fallback_answers_when_the_primary_fails() -> None:
    primary = ScriptedProvider(name="primary").fail("unavailable")
    backup = ScriptedProvider(name="backup").reply("from backup")
    provider = FallbackProvider(primary, [(backup, "backup-model")])
    response = await provider.complete(hello())
    assert response.text == "from backup"
    assert response.provider == "backup"
    assert backup.requests[0].model == "backup-model"
    assert primary.requests[0].model == "m"


async def test_fallback_chain_reports_every_failure() -> None:
    primary = ScriptedProvider(name="one").fail("unavailable")
    second = ScriptedProvider(name="two").fail("auth")
    provider = FallbackProvider(primary, [(second, "x")])
    with pytest.raises(AuthenticationError, match="every provider failed") as caught:
        await provider.complete(hello())
    assert "one/m" in str(caught.value)
    assert "two/x" in str(caught.value)


async def test_stream_falls_back_only_before_its_first_event() -> None:
    primary = ScriptedProvider(name="p").fail("unavailable")
    backup = ScriptedProvider(name="b").push({"chunks": ["x", "y"]})
    result = await collect(FallbackProvider(primary, [(backup, "bm")]).stream(hello()))
    assert result.text == "xy"

    cut = ScriptedProvider(name="p").push({"chunks": ["1", "2"], "interrupt_after": 1})
    unused = ScriptedProvider(name="b").reply("should not be used")
    with pytest.raises(StreamInterrupted):
        [e async for e in FallbackProvider(cut, [(unused, "bm")]).stream(hello())]
    assert unused.requests == []
