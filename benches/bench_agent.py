"""The agent layer's overhead, each measure paired with its floor.

- ``Agent.execute`` against the local mock server, against a raw ``httpx`` POST of the same chat
  request to the same server: the ratio is what the agent and the native provider add to a real
  HTTP round trip (input checks, request building, response parsing, history, metrics).
  Target: ≤ 1.5×.
- ``Agent.stream`` of a 1000-chunk answer from the in-process scripted provider, against
  iterating the provider's own stream of the same request: the difference per chunk is what the
  agent adds to each chunk (chunk dicts, stream accounting). Target: ≤ 5 µs per chunk.

Run: ``pytest benches/bench_agent.py --benchmark-only``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from pairing import Pairer, Target

from llmspell.agents.agent import Agent
from llmspell.agents.config import AgentConfig
from llmspell.core.types import ChatMessage, ChatRequest
from llmspell.providers.mock_server import MockServer
from llmspell.providers.openai_compat import OpenAICompatProvider
from llmspell.providers.scripted import ScriptedProvider

PROMPT = "ping"
CHUNKS = 1000
LONG_PROMPT = " ".join(f"w{i}" for i in range(CHUNKS))
Case = Callable[[], Awaitable[None]]


def http_agent(server: MockServer) -> Case:
    provider = OpenAICompatProvider(server.base_url, default_model="bench-model", max_retries=0)
    agent = Agent(AgentConfig(name="bench", model="bench-model"), provider)

    async def run() -> None:
        agent.clear_history()
        output = await agent.execute(PROMPT)
        assert output["text"] == PROMPT

    return run


def http_raw(server: MockServer) -> Case:
    client = httpx.AsyncClient(base_url=server.base_url)
    body = {"model": "bench-model", "messages": [{"role": "user", "content": PROMPT}]}

    async def run() -> None:
        response = await client.post("/chat/completions", json=body)
        assert response.json()["choices"][0]["message"]["content"] == PROMPT

    return run


def stream_agent() -> Case:
    agent = Agent(AgentConfig(name="bench", model="m"), ScriptedProvider(echo=True))

    async def run() -> None:
        agent.clear_history()
        count = 0
        async for chunk in agent.stream(LONG_PROMPT):
            count += "text" in chunk
        assert count == CHUNKS

    return run


def stream_direct() -> Case:
    provider = ScriptedProvider(echo=True)
    request = ChatRequest(model="m", messages=[ChatMessage.user(LONG_PROMPT)], stream=True)

    async def run() -> None:
        events: AsyncIterator[Any] = provider.stream(request)
        count = 0
        async for event in events:
            count += event.kind == "text"
        assert count == CHUNKS

    return run


def test_agent_execute_over_http(paired: Pairer, loop: asyncio.AbstractEventLoop) -> None:
    with MockServer(ScriptedProvider(echo=True)) as server:
        agent_call, raw_call = http_agent(server), http_raw(server)
        paired(
            lambda: loop.run_until_complete(agent_call()),
            lambda: loop.run_until_complete(raw_call()),
            name="Agent.execute against the mock server",
            floor_name="raw httpx POST of the same request",
            target=Target.ratio(1.5),
            rounds=200,
            warmup=10,
        )


def test_agent_stream_per_chunk(paired: Pairer, loop: asyncio.AbstractEventLoop) -> None:
    agent_stream, direct_stream = stream_agent(), stream_direct()
    paired(
        lambda: loop.run_until_complete(agent_stream()),
        lambda: loop.run_until_complete(direct_stream()),
        name=f"Agent.stream of {CHUNKS} chunks (per chunk)",
        floor_name="the provider's own stream",
        target=Target.overhead(5e-6, CHUNKS),
        rounds=30,
        per=CHUNKS,
    )
