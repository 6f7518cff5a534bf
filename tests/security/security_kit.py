"""Hosts for the security suite: small limits, a few test tools, both isolation modes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from llmspell import Host
from llmspell.core.result import RunResult
from llmspell.tools.callable_tool import CallableTool

CORPUS = Path(__file__).parent / "corpus"
LIMITS = {"cpu_seconds": 0.2, "memory_mb": 16, "wall_seconds": 3, "output_bytes": 4096}
CONFIG: dict[str, Any] = {"storage": {"backend": "memory"}, "tools": {"timeout": 0.3}}
MODES = ("in-process", "process")


async def _echo(params: dict[str, Any], ctx: Any) -> Any:
    return params


async def _big_result(params: dict[str, Any], ctx: Any) -> Any:
    n, size = int(params.get("n", 1)), int(params.get("size", 100))
    return ["y" * size] * n


async def _slow(params: dict[str, Any], ctx: Any) -> Any:
    await asyncio.sleep(30)
    return None


def make_host(isolation: str, **limits: Any) -> Host:
    host = Host(CONFIG, limits={**LIMITS, **limits}, record_runs=False, isolation=isolation)
    for name, handler in (("echo", _echo), ("big_result", _big_result), ("slow", _slow)):
        host.services.tools.register(CallableTool(name, f"test tool {name}", None, handler))
    return host


async def watched(
    host: Host, script: str | Path, interval: float = 0.02
) -> tuple[RunResult, float]:
    """Run ``script`` with ``run_async`` while another task ticks every ``interval`` seconds;
    returns the result and the longest time the loop went without answering."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ping() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(interval)
            now = time.perf_counter()
            gaps.append(now - last - interval)
            last = now

    pinger = asyncio.create_task(ping())
    try:
        result = await host.run_async(script)
    finally:
        done.set()
        await pinger
    return result, max(gaps, default=0.0)


def run_watched(host: Host, script: str | Path) -> tuple[RunResult, float]:
    return asyncio.run(watched(host, script))
