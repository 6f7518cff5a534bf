"""The Lua ``Agent`` adapter's overhead, each measure paired with its floor.

- ``for chunk in agent:stream_execute(...)`` over a 1000-chunk answer of the in-process scripted
  provider, against the same agent's ``stream()`` async generator driving a bare lupa coroutine
  (each chunk turned into a Lua table and handed to ``coroutine.resume``): what any asyncio→Lua
  binding must do per chunk. The ratio per chunk is what the adapter adds (scheduler wait,
  conversion, the iterator). Target: ≤ 2×.
- ``agent:execute(prompt)`` from Lua against the mock server, against a raw ``httpx`` POST of
  the same chat request to the same server. Target: ≤ 1.5×.

Run: ``pytest benches/bench_agent_lua.py --benchmark-only``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from lua_functions import ScriptFunctions
from lupa import lua54
from pairing import Pairer, Target

from llmspell import Host
from llmspell.agents.agent import Agent
from llmspell.agents.config import AgentConfig
from llmspell.providers.mock_server import MockServer
from llmspell.providers.scripted import ScriptedProvider

CHUNKS = 1000
LONG_PROMPT = " ".join(f"w{i}" for i in range(CHUNKS))
PROMPT = "ping"
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
EXECUTE_LUA = """
agent = Agent.create{name = "bench", model = "mock/bench-model"}
function ask(prompt)
  agent:clear_history()
  return agent:execute(prompt).text
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


def lua_stream() -> Stream:
    """The Lua side: ``agent:stream_execute`` iterated in a script, returning the chunk count
    (the echoing provider answers a prompt in one chunk per word)."""
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


def test_stream_execute_per_chunk(paired: Pairer, loop: asyncio.AbstractEventLoop) -> None:
    measure, floor = lua_stream(), floor_stream()
    assert loop.run_until_complete(measure(LONG_PROMPT)) == CHUNKS
    assert loop.run_until_complete(floor(LONG_PROMPT)) == CHUNKS
    paired(
        lambda: loop.run_until_complete(measure(LONG_PROMPT)),
        lambda: loop.run_until_complete(floor(LONG_PROMPT)),
        name=f"Lua for chunk in agent:stream_execute() ({CHUNKS} chunks, per chunk)",
        floor_name="agent.stream() driving a bare lupa coroutine",
        target=Target.ratio(2.0),
        rounds=30,
        per=CHUNKS,
    )


def lua_execute(server: MockServer) -> Callable[[], Any]:
    config = {
        "storage": {"backend": "memory"},
        "providers": {
            "mock": {
                "provider_type": "openai_compat",
                "base_url": server.base_url,
                "max_retries": 0,
            }
        },
    }
    fns = ScriptFunctions(Host(config), EXECUTE_LUA)
    # Each call runs as a whole run's main task, whose end closes the run's providers; a script
    # that calls an agent repeatedly keeps its connection for the whole run, so keep it here.
    fns.run.scheduler.finalizers.clear()
    return lambda: fns.call_async("ask", PROMPT)


def raw_post(server: MockServer) -> Callable[[], Any]:
    client = httpx.AsyncClient(base_url=server.base_url)
    body = {"model": "bench-model", "messages": [{"role": "user", "content": PROMPT}]}

    async def run() -> Any:
        response = await client.post("/chat/completions", json=body)
        return response.json()["choices"][0]["message"]["content"]

    return run


def test_lua_agent_execute_over_http(paired: Pairer, loop: asyncio.AbstractEventLoop) -> None:
    with MockServer(ScriptedProvider(echo=True)) as server:
        measure, floor = lua_execute(server), raw_post(server)
        assert loop.run_until_complete(measure()) == PROMPT
        assert loop.run_until_complete(floor()) == PROMPT
        paired(
            lambda: loop.run_until_complete(measure()),
            lambda: loop.run_until_complete(floor()),
            name="Lua agent:execute() against the mock server",
            floor_name="raw httpx POST of the same request",
            target=Target.ratio(1.5),
            rounds=200,
            warmup=10,
        )
