"""Per-run overhead of each isolation mode: ``Host.run("return 1")`` vs a bare lupa runtime.

Run: ``pytest benches/bench_isolation.py --benchmark-only``. In-process, a run pays for a fresh
Lua 5.4 runtime with the sandbox and the globals; in process mode it also pays for a worker and
the pipe round trips. A worker is taken started from the warm pool (its ~0.1 s of imports paid
ahead, in the background): ``warm worker`` waits for the pool to refill between runs, as bursty
use sees it; back to back, runs come faster than workers start on two cores and wait for one.
The floor creates ``lupa.lua54.LuaRuntime()`` and executes the same chunk. The CPU hook's cost on
a tight loop and on a typical script is ``bench_cpu_hook.py``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
from lupa import lua54
from pairing import Pairer

from llmspell import Host

FLOOR = "LuaRuntime() + execute"


def _host(isolation: str) -> Host:
    host = Host({"storage": {"backend": "memory"}}, record_runs=False, isolation=isolation)
    for _ in range(3):  # the pool fills from the second run on
        assert host.run("return 1").value == 1
    return host


@pytest.mark.parametrize("isolation", ["in-process", "process"])
def test_run_overhead_back_to_back(paired: Pairer, isolation: str) -> None:
    host = _host(isolation)
    paired(
        lambda: host.run("return 1"),
        lambda: lua54.LuaRuntime().execute("return 1"),
        name=f'per run, {isolation}, back to back: Host.run("return 1")',
        floor_name=FLOOR,
        target=None,
        rounds=40 if isolation == "process" else 150,
        warmup=3,
    )


def test_run_overhead_warm_worker(benchmark: Any, paired: Pairer) -> None:
    host = _host("process")
    runs: list[float] = []
    floors: list[float] = []

    def refill_then_floor() -> None:
        time.sleep(0.4)  # untimed: the pool refills
        started = time.perf_counter()
        lua54.LuaRuntime().execute("return 1")
        floors.append(time.perf_counter() - started)

    def measure() -> None:
        started = time.perf_counter()
        host.run("return 1")
        runs.append(time.perf_counter() - started)

    benchmark.pedantic(measure, setup=refill_then_floor, rounds=25, warmup_rounds=1)
    paired.row(
        'per run, process, warm worker: Host.run("return 1")',
        FLOOR,
        statistics.median(runs),
        statistics.median(floors),
        unit="s",
        target=None,
        rounds=len(runs),
    )
