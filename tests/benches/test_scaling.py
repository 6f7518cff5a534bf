"""The scaling benches run end to end at their smallest size and record plottable rows.

Each bench function runs once with a stand-in for pytest-benchmark's fixture: its own checks
(both sides of a pair do the same work: same chunk count, same step result, same history
length, same stored value) run, and each row carries the figure and x it belongs to.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHES = Path(__file__).resolve().parents[2] / "benches"


class FakeBenchmark:
    """Stands for pytest-benchmark's fixture: runs setup then target, round by round."""

    def __init__(self) -> None:
        self.extra_info: dict[str, Any] = {}

    def pedantic(
        self,
        target: Callable[[], object],
        setup: Callable[[], object],
        rounds: int,
        warmup_rounds: int,
    ) -> None:
        for _ in range(rounds + warmup_rounds):
            setup()
            target()


@pytest.fixture
def benches(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Imports a bench module the way ``pytest benches`` does (its folder on ``sys.path``)."""
    monkeypatch.syspath_prepend(str(BENCHES))
    return importlib.import_module


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


def rows_of(benchmark: FakeBenchmark) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = benchmark.extra_info["rows"]
    return rows


def paired(benches: Callable[[str], ModuleType]) -> tuple[Any, FakeBenchmark]:
    benchmark = FakeBenchmark()
    return benches("pairing").Pairer(benchmark), benchmark


def check_row(row: dict[str, Any], figure: str, series: str, x: int) -> None:
    assert row["plot"]["figure"] == figure
    assert row["plot"]["series"] == series
    assert row["plot"]["x"] == x
    assert row["target"] is None
    assert row["value"] > 0 and row["floor_value"] > 0


def test_chunks_per_stream(
    benches: Callable[[str], ModuleType], loop: asyncio.AbstractEventLoop
) -> None:
    bench = benches("bench_scaling_stream")
    pairer, benchmark = paired(benches)
    bench.test_chunks_per_stream(pairer, loop, 10)
    (row,) = rows_of(benchmark)
    check_row(row, "stream-chunks", "agent:stream_execute", 10)
    assert "10 chunks" in row["measure"]


@pytest.mark.parametrize("series", ["no checkpoints", "checkpoint per step (SQLite file)"])
def test_workflow_length(benches: Callable[[str], ModuleType], tmp_path: Path, series: str) -> None:
    bench = benches("bench_scaling_workflow")
    pairer, benchmark = paired(benches)
    bench.test_workflow_length(pairer, tmp_path, series, 10)
    (row,) = rows_of(benchmark)
    check_row(row, "workflow-length", series, 10)
    assert row["floor"] == "10 Lua Tool.execute calls of the same tool"


def test_conversation_length(
    benches: Callable[[str], ModuleType], loop: asyncio.AbstractEventLoop
) -> None:
    bench = benches("bench_scaling_conversation")
    pairer, benchmark = paired(benches)
    bench.test_conversation_length(pairer, loop, 10)
    (row,) = rows_of(benchmark)
    check_row(row, "conversation-length", "agent:execute", 10)


@pytest.mark.parametrize("operation", ["save", "load"])
@pytest.mark.parametrize("kind", ["string", "table"])
def test_state_size(
    benches: Callable[[str], ModuleType], tmp_path: Path, operation: str, kind: str
) -> None:
    bench = benches("bench_scaling_state")
    pairer, benchmark = paired(benches)
    db_file = tmp_path / "bench.db"
    raw = bench.open_raw(db_file)
    try:
        bench.test_state_size(pairer, db_file, raw, operation, kind, 1)
    finally:
        raw.close()
    (row,) = rows_of(benchmark)
    check_row(row, "state-size", f"State.{operation}, {kind}", 1)
    assert row["per"] == bench.calls_for(1)


def test_state_values_are_the_size_they_claim(benches: Callable[[str], ModuleType]) -> None:
    """The x of the state figure is the value's JSON size: 1 KB strings and tables are 1 KB
    of JSON give or take one entry."""
    bench = benches("bench_scaling_state")
    for kind in ("string", "table"):
        first, second = bench.values(kind, 1)
        sizes = {len(json.dumps(v, separators=(",", ":"))) for v in (first, second)}
        assert all(abs(size - 1024) <= bench.ENTRY_BYTES for size in sizes), (kind, sizes)
        assert first != second
