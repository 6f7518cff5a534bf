from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmspell.core.errors import ProviderError, ValidationError
from llmspell.core.types import ChatMessage, ChatRequest, StreamFinish, TextDelta, ToolCallDelta
from llmspell.events import EventBus
from llmspell.providers.base import collect
from llmspell.providers.cache import CachingProvider, ResponseCache, cache_key
from llmspell.providers.scripted import ScriptedProvider
from llmspell.state.store import Store, open_store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(memory=True) as opened:
        yield opened


def request(text: str = "hello", **fields: object) -> ChatRequest:
    return ChatRequest(model="m", messages=[ChatMessage.user(text)], **fields)  # type: ignore[arg-type]


async def test_miss_then_hit_without_calling_the_provider(store: Store) -> None:
    inner = ScriptedProvider(["first answer"])
    cache = ResponseCache(store)
    provider = CachingProvider(inner, cache)
    first = await provider.complete(request())
    second = await provider.complete(request())
    assert first.text == second.text == "first answer"
    assert len(inner.requests) == 1
    assert second.cost_usd == 0.0
    assert second.usage == first.usage
    assert cache.stats() == {"entries": 1, "hits": 1, "misses": 1, "ttl": 3600.0}


async def test_key_covers_model_messages_parameters_and_provider(store: Store) -> None:
    base = cache_key(request(), "p")
    assert cache_key(request(stream=True), "p") == base
    assert cache_key(request("other"), "p") != base
    assert cache_key(request(temperature=0.5), "p") != base
    assert cache_key(ChatRequest(model="m2", messages=[ChatMessage.user("hello")]), "p") != base
    assert cache_key(request(), "q") != base

    inner = ScriptedProvider(["a", "b"])
    provider = CachingProvider(inner, ResponseCache(store))
    assert (await provider.complete(request())).text == "a"
    assert (await provider.complete(request(temperature=0.1))).text == "b"


async def test_entries_expire_after_their_ttl(store: Store) -> None:
    clock = Clock()
    inner = ScriptedProvider(["old", "new"])
    provider = CachingProvider(inner, ResponseCache(store, ttl=10, clock=clock))
    assert (await provider.complete(request())).text == "old"
    clock.now += 9
    assert (await provider.complete(request())).text == "old"
    clock.now += 2
    assert (await provider.complete(request())).text == "new"
    assert len(inner.requests) == 2
    assert store.fetch_one("SELECT COUNT(*) FROM response_cache")[0] == 1  # type: ignore[index]


async def test_streamed_reply_replays_as_the_same_stream(store: Store) -> None:
    inner = ScriptedProvider([{"chunks": ["Hel", "lo ", "there"]}])
    bus = EventBus()
    sub = bus.subscribe("provider.cache.*")
    provider = CachingProvider(inner, ResponseCache(store), events=bus)
    live = [event async for event in provider.stream(request(stream=True))]
    replay = [event async for event in provider.stream(request(stream=True))]
    assert len(inner.requests) == 1
    assert [e.text for e in replay if isinstance(e, TextDelta)] == ["Hel", "lo ", "there"]
    assert replay[:-1] == live[:-1]
    assert isinstance(replay[-1], StreamFinish) and replay[-1].cost_usd == 0.0
    assert replay[-1].usage == live[-1].usage  # type: ignore[union-attr]
    from_cache = await provider.complete(request())
    assert from_cache.text == "Hello there" and len(inner.requests) == 1
    kinds = [(await bus.receive(sub, 0) or {}).get("type") for _ in range(3)]
    assert kinds == ["provider.cache.miss", "provider.cache.hit", "provider.cache.hit"]


async def test_tool_calls_survive_the_round_trip(store: Store) -> None:
    inner = ScriptedProvider([{"tool_calls": [{"name": "calculator", "arguments": {"x": 1}}]}])
    provider = CachingProvider(inner, ResponseCache(store))
    await collect(provider.stream(request()))
    replay = [event async for event in provider.stream(request())]
    deltas = [e for e in replay if isinstance(e, ToolCallDelta)]
    assert "".join(d.arguments for d in deltas) == '{"x": 1}'
    finish = replay[-1]
    assert isinstance(finish, StreamFinish)
    assert finish.tool_calls[0].name == "calculator"
    assert finish.tool_calls[0].arguments == {"x": 1}


async def test_complete_reply_replays_as_a_stream(store: Store) -> None:
    inner = ScriptedProvider(["whole answer"])
    provider = CachingProvider(inner, ResponseCache(store))
    await provider.complete(request())
    replay = [event async for event in provider.stream(request(stream=True))]
    assert replay[0] == TextDelta("whole answer")
    assert isinstance(replay[-1], StreamFinish) and replay[-1].finish_reason == "stop"


async def test_failures_and_cut_streams_are_not_cached(store: Store) -> None:
    inner = ScriptedProvider(
        [{"error": "server_error"}, {"text": "a b c", "interrupt_after": 1}, "fine"]
    )
    cache = ResponseCache(store)
    provider = CachingProvider(inner, cache)
    with pytest.raises(ProviderError):
        await provider.complete(request())
    with pytest.raises(ProviderError):
        await collect(provider.stream(request()))
    assert cache.stats()["entries"] == 0
    assert (await provider.complete(request())).text == "fine"


async def test_abandoned_stream_is_not_cached(store: Store) -> None:
    inner = ScriptedProvider([{"chunks": ["a", "b"]}, "second"])
    cache = ResponseCache(store)
    provider = CachingProvider(inner, cache)
    stream = provider.stream(request())
    assert await anext(stream) == TextDelta("a")
    await stream.aclose()  # type: ignore[attr-defined]
    assert cache.stats()["entries"] == 0


def test_cache_survives_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with open_store(path=path) as store:
        inner = ScriptedProvider(["persisted"])
        asyncio.run(CachingProvider(inner, ResponseCache(store)).complete(request()))
    with open_store(path=path) as store:
        cache = ResponseCache(store)
        found = cache.get(cache_key(request(), "scripted"))
        assert found is not None and found.response.text == "persisted"
        assert cache.clear() == 1
        assert cache.delete("nothing") is False


def test_ttl_must_be_positive(store: Store) -> None:
    with pytest.raises(ValidationError, match="ttl"):
        ResponseCache(store, ttl=0)
    assert ResponseCache(store, ttl=None).ttl is None
