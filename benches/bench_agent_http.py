"""Lua agents over HTTP at scale: ``parallel`` calls, streaming over SSE, a script's peak RSS.

Run: ``pytest benches/bench_agent_http.py --benchmark-only``. Agents use the native
OpenAI-compatible backend against ``llmspell mock-server`` running in a process of its own (its
threads do not take the bench's GIL), over loopback:

- 50 ``agent:execute`` calls under ``parallel`` vs one call, server latency 100 ms (≤ 1.3×),
  with 50 concurrent raw ``httpx`` POSTs vs one as a reference row: what the server and this
  machine allow any client;
- a streamed reply end to end over SSE (``agent:stream_execute``) vs raw ``httpx`` streaming of
  the same reply, each SSE line parsed as JSON (≤ 1.5×);
- peak RSS of ``llmspell run agent.lua`` (≤ 50 MB, no floor).

``bench_agent_lua.py`` has the single call and the per-chunk cost.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lua_functions import ScriptFunctions
from pairing import Pairer, Target
from processes import llmspell_command, mock_server_process, run_child

from llmspell import Host

MODEL = "bench-model"
PROMPT = "ping"
WORDS = 200
STREAM_PROMPT = " ".join(f"w{i}" for i in range(WORDS))
PARALLEL_CALLS = 50
LATENCY = 0.1
LUA = """
local agents = {}
for i = 1, %(calls)d do
  agents[i] = Agent.builder():name("bench" .. i):model("mock/%(model)s"):build()
end

function call(input)
  agents[1]:clear_history()
  return agents[1]:execute(input).text
end

function call_parallel(input)
  local fns = {}
  for i = 1, #agents do
    fns[i] = function()
      agents[i]:clear_history()
      return agents[i]:execute(input).text
    end
  end
  return #parallel(fns)
end

function stream(input)
  agents[1]:clear_history()
  local n = 0
  for chunk in agents[1]:stream_execute(input) do
    if chunk.text then
      n = n + 1
    end
  end
  return n
end
"""
AGENT_SCRIPT = """
local agent = Agent.builder():model("mock/bench-model"):build()
print(agent:execute("ping").text)
"""


def lua_agents(base_url: str, calls: int = 1) -> ScriptFunctions:
    config = {
        "storage": {"backend": "memory"},
        "providers": {
            "mock": {
                "provider_type": "openai",
                "base_url": base_url,
                "api_key": "bench",
                "default_model": MODEL,
                "max_retries": 0,
            }
        },
    }
    return ScriptFunctions(Host(config), LUA % {"calls": calls, "model": MODEL})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The base URL of a mock server that echoes the last user message."""
    with mock_server_process(tmp_path, [{"echo": True, "times": 1_000_000}]) as base_url:
        yield base_url


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[str]:
    """The same, each answer sent after ``LATENCY`` seconds."""
    steps = [{"echo": True, "delay": LATENCY, "times": 1_000_000}]
    with mock_server_process(tmp_path, steps) as base_url:
        yield base_url


def raw_post(client: httpx.AsyncClient, prompt: str) -> Callable[[], Awaitable[str]]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}

    async def post() -> str:
        response = await client.post("/chat/completions", json=body)
        return str(response.json()["choices"][0]["message"]["content"])

    return post


def raw_stream(client: httpx.AsyncClient, prompt: str) -> Callable[[], Awaitable[int]]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": True}

    async def stream() -> int:
        pieces = 0
        async with client.stream("POST", "/chat/completions", json=body) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choices = json.loads(line[6:]).get("choices") or [{}]
                pieces += bool(choices[0].get("delta", {}).get("content"))
        return pieces

    return stream


def test_parallel_agent_calls(
    paired: Pairer, slow_server: str, loop: asyncio.AbstractEventLoop
) -> None:
    fns = lua_agents(slow_server, PARALLEL_CALLS)
    assert loop.run_until_complete(fns.call_async("call_parallel", PROMPT)) == PARALLEL_CALLS
    paired(
        lambda: loop.run_until_complete(fns.call_async("call_parallel", PROMPT)),
        lambda: loop.run_until_complete(fns.call_async("call", PROMPT)),
        name=f"{PARALLEL_CALLS} Lua agent calls via parallel (server latency 100 ms)",
        floor_name="one agent call",
        target=Target.ratio(1.3),
        rounds=10,
    )
    loop.run_until_complete(fns.aclose())


def test_parallel_raw_posts(
    paired: Pairer, slow_server: str, loop: asyncio.AbstractEventLoop
) -> None:
    client = httpx.AsyncClient(base_url=slow_server)
    one = raw_post(client, PROMPT)

    async def many() -> list[str]:
        return await asyncio.gather(*(one() for _ in range(PARALLEL_CALLS)))

    assert loop.run_until_complete(many()) == [PROMPT] * PARALLEL_CALLS
    paired(
        lambda: loop.run_until_complete(many()),
        lambda: loop.run_until_complete(one()),
        name=f"reference: {PARALLEL_CALLS} concurrent raw httpx POSTs (server latency 100 ms)",
        floor_name="one raw httpx POST",
        target=None,
        rounds=10,
    )
    loop.run_until_complete(client.aclose())


def test_stream_over_sse(paired: Pairer, server: str, loop: asyncio.AbstractEventLoop) -> None:
    fns = lua_agents(server)
    client = httpx.AsyncClient(base_url=server)
    floor = raw_stream(client, STREAM_PROMPT)
    assert loop.run_until_complete(fns.call_async("stream", STREAM_PROMPT)) == WORDS
    assert loop.run_until_complete(floor()) == WORDS
    paired(
        lambda: loop.run_until_complete(fns.call_async("stream", STREAM_PROMPT)),
        lambda: loop.run_until_complete(floor()),
        name=f"Lua agent:stream_execute over SSE, {WORDS} chunks (mock server)",
        floor_name="raw httpx streaming of the same reply",
        target=Target.ratio(1.5),
        rounds=30,
    )
    loop.run_until_complete(client.aclose())
    loop.run_until_complete(fns.aclose())


def test_agent_script_rss(paired: Pairer, benchmark: Any, server: str, tmp_path: Path) -> None:
    (tmp_path / "agent.lua").write_text(AGENT_SCRIPT)
    (tmp_path / "llmspell.toml").write_text(
        '[storage]\nbackend = "memory"\n\n[providers.mock]\nprovider_type = "openai"\n'
        f'base_url = "{server}"\napi_key = "bench"\ndefault_model = "{MODEL}"\n'
    )
    command = [*llmspell_command(), "run", "agent.lua"]
    peaks: list[float] = []

    def run() -> None:
        out, peak_mib = run_child(command, tmp_path)
        assert out == b"ping\n"
        peaks.append(peak_mib * 1.048576)

    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    paired.row(
        "`llmspell run agent.lua` peak RSS, native backend (mock server)",
        "— (absolute target)",
        statistics.median(peaks[-5:]),
        None,
        unit="MB",
        target=Target.at_most(50, "MB"),
        rounds=5,
    )
