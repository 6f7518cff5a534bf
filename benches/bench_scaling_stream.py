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

import pytest
from bench_agent_lua import floor_stream, lua_stream
from pairing import Pairer, Plot

CHUNKS = (10, 100, 250, 500, 1000)
ROUNDS = 20


def prompt(chunks: int) -> str:
    """A prompt the echoing provider answers in ``chunks`` chunks (one per word)."""
    return " ".join(f"w{i}" for i in range(chunks))


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
