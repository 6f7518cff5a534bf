"""The bench summary: rows recorded by ``benches/pairing.py`` become one table of ratios."""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHES = Path(__file__).resolve().parents[2] / "benches"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


summary = load("summary")
pairing = load("pairing")


class FakeBenchmark:
    """Stands for pytest-benchmark's fixture: runs setup then target, round by round."""

    def __init__(self) -> None:
        self.extra_info: dict[str, Any] = {}

    def pedantic(self, target: Any, setup: Any, rounds: int, warmup_rounds: int) -> None:
        for _ in range(rounds + warmup_rounds):
            setup()
            target()


def write_json(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"benchmarks": [{"extra_info": {"rows": rows}}, {}]}))
    return path


def row(**fields: Any) -> dict[str, Any]:
    base = {"measure": "m", "floor": "f", "unit": "s", "rounds": 3, "per": 1, "target": None}
    return {**base, **fields}


def test_ratio_target_met_and_missed(tmp_path: Path) -> None:
    target = {"kind": "ratio", "limit": 1.5, "unit": "", "per": 1, "what": ""}
    rows = [
        row(measure="fast", value=1.2e-3, floor_value=1e-3, target=target),
        row(measure="slow", value=2e-3, floor_value=1e-3, target=target),
    ]
    lines = summary.table_lines(summary.load_rows(write_json(tmp_path, rows)))
    assert lines[0] == "| measure | floor | ratio | target | within target |"
    assert lines[2] == "| fast (1.2 ms) | f (1 ms) | 1.20× | ≤ 1.5× | yes |"
    assert lines[3] == "| slow (2 ms) | f (1 ms) | 2.00× | ≤ 1.5× | **no** |"


def test_delta_and_absolute_targets() -> None:
    delta = row(
        value=20.0,
        floor_value=15.0,
        unit="MiB",
        target=asdict(pairing.Target.delta(12, "MiB")),
    )
    absolute = row(
        value=58.0,
        floor_value=None,
        floor="—",
        unit="MB",
        target=asdict(pairing.Target.at_most(50, "MB")),
    )
    lines = summary.table_lines([delta, absolute])
    assert lines[2].endswith("| 1.33× (+5.0 MiB) | ≤ floor + 12 MiB | yes |")
    assert lines[3] == "| m (58.0 MB) | — | — | ≤ 50 MB | **no** |"


@pytest.mark.parametrize("per_row", [1, 100])
def test_overhead_per_step_whether_or_not_values_are_per_step(per_row: int) -> None:
    """100 steps take 3 ms against 1 ms: 20 µs per step, however the row was divided."""
    target = asdict(pairing.Target.overhead(50e-6, 100, "step"))
    rows = [row(value=3e-3 / per_row, floor_value=1e-3 / per_row, per=per_row, target=target)]
    assert summary.table_lines(rows)[2].endswith(
        "| 3.00× (+20 µs per step) | ≤ 50 µs per step | yes |"
    )


def test_pairer_alternates_and_records_medians_per_operation() -> None:
    calls: list[str] = []
    benchmark = FakeBenchmark()
    pairer = pairing.Pairer(benchmark)
    measured, floored = pairer(
        lambda: calls.append("measure"),
        lambda: calls.append("floor"),
        name="m",
        floor_name="f",
        target=pairing.Target.ratio(2.0),
        rounds=4,
        warmup=1,
        per=10,
    )
    assert calls == ["floor", "measure"] * 5
    assert len(measured) == len(floored) == 4
    (recorded,) = benchmark.extra_info["rows"]
    assert recorded["per"] == 10 and recorded["rounds"] == 4
    assert recorded["target"]["kind"] == "ratio"
    assert recorded["value"] == statistics.median(measured) / 10
    assert recorded["floor_value"] == statistics.median(floored) / 10


def test_plot_draws_one_png_per_figure(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plot = {"figure": "concurrency", "series": "runs", "xlabel": "n"}
    rows = [row(value=0.06 * n, floor_value=0.05, plot={**plot, "x": n}) for n in (1, 10, 100)]
    written = summary.plot(rows, tmp_path)
    assert written == [tmp_path / "perf-concurrency.png"]
    assert written[0].read_bytes().startswith(b"\x89PNG")
