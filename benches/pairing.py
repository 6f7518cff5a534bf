"""Paired measurements: an llmspell operation and its floor, timed alternately in one run.

Shared machines are noisy, so every measure is reported as a ratio to a floor measured in the
same process, round by round: floor, measure, floor, measure... A bench records its results as
*rows* in the benchmark's ``extra_info["rows"]``; ``benches/summary.py`` reads them back from the
pytest-benchmark JSON and prints one table.

A row is plain data::

    {"measure": "Tool.execute (trivial tool)", "floor": "raw lupa round trip",
     "value": 2.1e-05, "floor_value": 7.0e-06, "unit": "s", "rounds": 300, "per": 200,
     "target": {"kind": "ratio", "limit": 3.0, "unit": "", "per": 1, "what": ""},
     "plot": {"figure": "concurrency", "series": "Host.run_async", "x": 10, "xlabel": "..."}}

``value`` and ``floor_value`` are medians, divided by ``per`` (the operations one timed call
runs), so seconds per operation for ``unit == "s"``. ``target`` and ``plot`` may be null/absent.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

TargetKind = Literal["ratio", "delta", "overhead", "max"]


@dataclass(frozen=True)
class Target:
    """What "within target" means for a row.

    - ``ratio``: measure / floor ≤ ``limit``;
    - ``delta``: measure - floor ≤ ``limit`` (in ``unit``, e.g. MiB of RSS);
    - ``overhead``: (measure - floor) / ``per`` ≤ ``limit`` seconds per ``what``, where one
      timed call runs ``per`` of them (e.g. 100 workflow steps). A row whose values are already
      per operation (``Pairer(..., per=N)``) is scaled back, so giving ``per`` to both is fine;
    - ``max``: measure ≤ ``limit`` (in ``unit``), for the few targets that have no floor.
    """

    kind: TargetKind
    limit: float
    unit: str = ""
    per: int = 1
    what: str = ""

    @classmethod
    def ratio(cls, limit: float) -> Target:
        return cls("ratio", limit)

    @classmethod
    def delta(cls, limit: float, unit: str) -> Target:
        return cls("delta", limit, unit)

    @classmethod
    def at_most(cls, limit: float, unit: str) -> Target:
        return cls("max", limit, unit)

    @classmethod
    def overhead(cls, limit_seconds: float, per: int, what: str = "item") -> Target:
        return cls("overhead", limit_seconds, "s", per, what)


@dataclass(frozen=True)
class Plot:
    """Where a row goes in a scaling plot: one PNG per ``figure``, one line per ``series``."""

    figure: str
    series: str
    x: float
    xlabel: str


class Pairer:
    """Runs a measure and its floor alternately under pytest-benchmark and records the rows.

    pytest-benchmark times the measure (its own table shows llmspell's side); the floor runs in
    the untimed ``setup`` slot just before each round, so both sides see the same machine state.
    """

    def __init__(self, benchmark: Any) -> None:
        self._benchmark = benchmark
        self.rows: list[dict[str, Any]] = []

    def __call__(
        self,
        measure: Callable[[], object],
        floor: Callable[[], object],
        *,
        name: str,
        floor_name: str,
        target: Target | None,
        rounds: int,
        warmup: int = 2,
        per: int = 1,
        plot: Plot | None = None,
    ) -> tuple[list[float], list[float]]:
        """Time ``rounds`` alternations and record one row; ``per`` operations run in one call.

        Returns the per-round times (seconds per call) of the measure and of the floor.
        """
        measured: list[float] = []
        floored: list[float] = []

        def timed_floor() -> None:
            started = time.perf_counter()
            floor()
            floored.append(time.perf_counter() - started)

        def timed_measure() -> None:
            started = time.perf_counter()
            measure()
            measured.append(time.perf_counter() - started)

        self._benchmark.pedantic(
            timed_measure, setup=timed_floor, rounds=rounds, warmup_rounds=warmup
        )
        # Warm-up rounds ran both sides too; keep the timed rounds only.
        measured, floored = measured[-rounds:], floored[-rounds:]
        self.row(
            name,
            floor_name,
            statistics.median(measured) / per,
            statistics.median(floored) / per,
            unit="s",
            target=target,
            rounds=len(measured),
            plot=plot,
            per=per,
        )
        return measured, floored

    def row(
        self,
        name: str,
        floor_name: str,
        value: float,
        floor_value: float | None,
        *,
        unit: str,
        target: Target | None,
        rounds: int,
        plot: Plot | None = None,
        per: int = 1,
    ) -> None:
        """Record a row computed by the bench itself (e.g. peak RSS gathered while timing);
        ``per`` is the number of operations the values were divided by. ``floor_value`` is None
        for a measure that has no floor (then ``floor_name`` says why, and the target is
        ``Target.at_most``)."""
        row: dict[str, Any] = {
            "measure": name,
            "floor": floor_name,
            "value": value,
            "floor_value": floor_value,
            "unit": unit,
            "rounds": rounds,
            "per": per,
            "target": None if target is None else asdict(target),
        }
        if plot is not None:
            row["plot"] = asdict(plot)
        self.rows.append(row)
        self._benchmark.extra_info["rows"] = self.rows
