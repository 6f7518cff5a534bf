"""Scaling with concurrency: many waiting scripts in one process, against the same waits in
plain asyncio.

Run: ``pytest benches/bench_concurrency.py --benchmark-only``. Two series, each at 1, 10, 25,
50 and 100:
- ``Host.run_async``: that many runs of ``sleep(0.05)`` gathered on one loop (each a fresh
  runtime, sandbox and globals);
- ``parallel``: one run whose script passes that many functions calling ``sleep(0.05)`` to
  ``parallel``.
The floor is ``asyncio.gather`` of as many ``asyncio.sleep(0.05)``: the wait itself. A ratio
near 1 means the runs overlap; what exceeds the floor is the per-run (or per-task) cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pairing import Pairer, Plot

from llmspell import Host

SLEEP = 0.05
COUNTS = (1, 10, 25, 50, 100)
SCRIPT = f"sleep({SLEEP}) return 1"
PARALLEL = """
local n = {n}
local fns = {{}}
for i = 1, n do
  fns[i] = function() sleep({sleep}) return i end
end
return #parallel(fns)
"""


def runs(host: Host, n: int) -> Callable[[], Awaitable[Any]]:
    async def go() -> list[Any]:
        results = await asyncio.gather(*(host.run_async(SCRIPT) for _ in range(n)))
        return [r.value for r in results]

    return go


def parallel(host: Host, n: int) -> Callable[[], Awaitable[Any]]:
    source = PARALLEL.format(n=n, sleep=SLEEP)

    async def go() -> Any:
        return (await host.run_async(source)).value

    return go


def sleeps(n: int) -> Callable[[], Awaitable[Any]]:
    async def go() -> list[None]:
        return await asyncio.gather(*(asyncio.sleep(SLEEP) for _ in range(n)))

    return go


SERIES = {
    "Host.run_async": (runs, "{n} concurrent Host.run_async of sleep(0.05)"),
    "parallel": (parallel, "parallel() of {n} functions calling sleep(0.05)"),
}


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("series", list(SERIES))
def test_concurrency(paired: Pairer, series: str, n: int) -> None:
    make, label = SERIES[series]
    host = Host({"storage": {"backend": "memory"}})
    measure, floor = make(host, n), sleeps(n)
    loop = asyncio.new_event_loop()
    try:
        first = loop.run_until_complete(measure())
        assert first == ([1] * n if series == "Host.run_async" else n)
        paired(
            lambda: loop.run_until_complete(measure()),
            lambda: loop.run_until_complete(floor()),
            name=label.format(n=n),
            floor_name=f"asyncio.gather of {n} asyncio.sleep(0.05)",
            target=None,
            rounds=8,
            plot=Plot("concurrency", series, n, "concurrent scripts / tasks"),
        )
    finally:
        loop.close()
