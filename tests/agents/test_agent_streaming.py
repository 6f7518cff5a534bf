"""Streaming: chunks arrive as the provider produces them, in every one of the three shapes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from agent_testkit import make_agent

from llmspell.core.errors import LimitExceeded, StreamInterrupted
from llmspell.core.types import Capabilities, ChatRequest, StreamEvent
from llmspell.providers.scripted import ScriptedProvider


async def test_first_chunk_arrives_before_the_provider_produced_the_last() -> None:
    provider = ScriptedProvider([{"chunks": ["a", "b", "c", "d"], "chunk_delay": 0.08}])
    produced: list[float] = []
    original = provider.stream

    async def timed(request: ChatRequest) -> AsyncIterator[StreamEvent]:
        async for event in original(request):
            produced.append(time.perf_counter())
            yield event

    provider.stream = timed  # type: ignore[method-assign]
    agent, _ = make_agent(provider)
    received: list[tuple[str, float]] = []
    async for chunk in agent.stream("go"):
        if "text" in chunk:
            received.append((chunk["text"], time.perf_counter()))
    assert [text for text, _ in received] == ["a", "b", "c", "d"]
    assert received[0][1] < produced[-1]
    assert received[0][1] < produced[3] - 0.1


async def test_chunk_shape_and_end_chunk() -> None:
    agent, _ = make_agent(ScriptedProvider([{"chunks": ["Hel", "lo"]}]))
    chunks = [c async for c in agent.stream("hi")]
    assert [c["chunk_index"] for c in chunks] == [0, 1, 2]
    assert len({c["stream_id"] for c in chunks}) == 1
    first = chunks[0]
    assert first["text"] == "Hel"
    assert first["content"] == {"type": "text", "text": "Hel"}
    assert first["metadata"] == {"agent": "helper"}
    assert isinstance(first["timestamp"], float)
    end = chunks[-1]
    assert "text" not in end
    assert end["content"]["type"] == "control" and end["content"]["signal"] == "end"
    assert end["content"]["data"]["finish_reason"] == "stop"
    assert [m["content"] for m in agent.get_history()] == ["hi", "Hello"]


async def test_invoke_stream_and_execute_with_callback_share_the_mechanism() -> None:
    agent, _ = make_agent(ScriptedProvider([{"chunks": ["x", "y"]}, {"chunks": ["p", "q"]}]))
    seen: list[str] = []
    result = await agent.invoke_stream("a", lambda c: seen.append(c.get("text", "")))
    assert result == {"success": True, "chunks_received": 3, "text": "xy"}
    assert seen == ["x", "y", ""]

    collected: list[dict[str, Any]] = []

    async def on_chunk(chunk: dict[str, Any]) -> None:
        collected.append(chunk)

    output = await agent.execute("b", on_chunk)
    assert output["text"] == "pq"
    assert [c.get("text") for c in collected] == ["p", "q", None]
    assert agent.get_metrics()["requests_total"] == 2


async def test_provider_without_streaming_gives_one_text_chunk() -> None:
    provider = ScriptedProvider(
        ["whole answer"], capabilities=Capabilities(streaming=False, tools=True)
    )
    agent, _ = make_agent(provider)
    assert not agent.supports_streaming()
    chunks = [c async for c in agent.stream("q")]
    assert [c.get("text") for c in chunks] == ["whole answer", None]
    assert provider.requests[0].stream is False


async def test_stopping_early_closes_the_provider_stream() -> None:
    closed = asyncio.Event()
    provider = ScriptedProvider()

    async def endless(request: ChatRequest) -> AsyncIterator[StreamEvent]:
        from llmspell.core.types import TextDelta

        try:
            while True:
                yield TextDelta("tick ")
                await asyncio.sleep(0)
        finally:
            closed.set()

    provider.stream = endless  # type: ignore[method-assign]
    agent, _ = make_agent(provider)
    stream = agent.stream("go")
    async for chunk in stream:
        if chunk["chunk_index"] == 3:
            break
    await stream.aclose()
    assert closed.is_set()
    assert agent.get_history() == []


async def test_interrupted_stream_fails_the_call_and_keeps_history() -> None:
    agent, _ = make_agent(ScriptedProvider([{"chunks": ["a", "b", "c"], "interrupt_after": 2}]))
    texts: list[str] = []
    with pytest.raises(StreamInterrupted):
        async for chunk in agent.stream("go"):
            texts.append(chunk["text"])
    assert texts == ["a", "b"]
    assert agent.get_history() == []
    assert agent.get_metrics()["requests_failed"] == 1


async def test_max_execution_time_bounds_a_stream() -> None:
    agent, _ = make_agent(
        ScriptedProvider([{"chunks": ["a", "b", "c"], "chunk_delay": 0.5}]),
        max_execution_time=0.1,
    )
    texts: list[str] = []
    started = time.perf_counter()
    with pytest.raises(LimitExceeded, match="max_execution_time"):
        async for chunk in agent.stream("go"):
            texts.append(chunk["text"])
    assert texts == ["a"]
    assert time.perf_counter() - started < 0.4
