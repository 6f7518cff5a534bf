"""Scaling with chunks per stream: a streamed agent reply of N chunks consumed in Lua.

Run: ``pytest benches/bench_scaling_stream.py --benchmark-only``. For N in ``CHUNKS``, one
``for chunk in agent:stream_execute(prompt)`` loop in Lua over an N-chunk answer of the
in-process scripted provider (echo mode: one chunk per word of the prompt), against the floor of
``bench_agent_lua.py``: the same reply from the agent's ``stream()`` async generator driving a
bare lupa coroutine, one Lua table per chunk. Each row is one whole stream; the plot's right
panel is what the Lua iterator adds per chunk, which should stay flat as N grows (a per-call
cost shows up as a rise at small N only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from lua_functions import ScriptFunctions
from lupa import lua54
from pairing import Pairer, Plot

from llmspell import Host
from llmspell.agents.agent import Agent
from llmspell.agents.config import AgentConfig
from llmspell.providers.scripted import ScriptedProvider

CHUNKS = (10, 100, 250, 500, 1000)
ROUNDS = 20
STREAM_LUA = """
agent = Agent.create{name = "bench"}
function stream(prompt)
  agent:clear_history()
  local count = 0
  for chunk in agent:stream_execute(prompt) do
    if chunk.text then count = count + 1 end
  end
  return count
end
"""
FLOOR_LUA = """
return function()
  local count = 0
  while true do
    local chunk = coroutine.yield(count)
    if chunk == nil then return end
    if chunk.text then count = count + 1 end
  end
end
"""
Stream = Callable[[str], Awaitable[Any]]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


def prompt(chunks: int) -> str:
    """A prompt the echoing provider answers in ``chunks`` chunks (one per word)."""
    return " ".join(f"w{i}" for i in range(chunks))


def lua_stream() -> Stream:
    """The Lua side: ``agent:stream_execute`` iterated in a script, returning the chunk count."""
    host = Host({"storage": {"backend": "memory"}, "default_provider": "bench"})
    host.services.providers.register("bench", ScriptedProvider(echo=True), default_model="m")
    fns = ScriptFunctions(host, STREAM_LUA)
    return lambda text: fns.call_async("stream", text)


def floor_stream() -> Stream:
    """The agent's own async generator feeding a bare lupa coroutine, one table per chunk."""
    lua = lua54.LuaRuntime()
    consumer = lua.execute(FLOOR_LUA)
    table_from = lua.table_from
    agent = Agent(AgentConfig(name="bench", model="m"), ScriptedProvider(echo=True))

    async def run(text: str) -> Any:
        agent.clear_history()
        co = consumer.coroutine()
        count = co.send(None)
        async for chunk in agent.stream(text):
            count = co.send(table_from(chunk, recursive=True))
        return count

    return run


@pytest.mark.parametrize("chunks", CHUNKS)
def test_chunks_per_stream(paired: Pairer, loop: asyncio.AbstractEventLoop, chunks: int) -> None:
    measure, floor, text = lua_stream(), floor_stream(), prompt(chunks)
    assert loop.run_until_complete(measure(text)) == chunks
    assert loop.run_until_complete(floor(text)) == chunks
    paired(
        lambda: loop.run_until_complete(measure(text)),
        lambda: loop.run_until_complete(floor(text)),
        name=f"Lua for chunk in agent:stream_execute() over {chunks} chunks (per stream)",
        floor_name="agent.stream() driving a bare lupa coroutine, same chunks",
        target=None,
        rounds=ROUNDS,
        plot=Plot("stream-chunks", "agent:stream_execute", chunks, "chunks per stream"),
    )
