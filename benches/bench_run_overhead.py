"""Per-run overhead of the in-process mode: ``Host.run("return 1")`` vs a bare lupa runtime.

Run: ``pytest benches/bench_run_overhead.py --benchmark-only``. The llmspell side pays for a
fresh Lua 5.4 runtime with the memory-limited allocator, the sandbox prelude, every global
adapter, the scheduler and the run record; the floor creates ``lupa.lua54.LuaRuntime()`` and
executes the same chunk. The issue sets no target for it: it is the fixed cost every other
in-process measure includes once per run.
"""

from __future__ import annotations

from pathlib import Path

from lupa import lua54
from pairing import Pairer

from llmspell import Host


def test_run_overhead(paired: Pairer, tmp_path: Path) -> None:
    host = Host({"storage": {"backend": "memory"}})
    assert host.run("return 1").value == 1
    assert lua54.LuaRuntime().execute("return 1") == 1
    paired(
        lambda: host.run("return 1"),
        lambda: lua54.LuaRuntime().execute("return 1"),
        name='per run: Host.run("return 1")',
        floor_name="LuaRuntime() + execute",
        target=None,
        rounds=150,
        warmup=5,
    )
