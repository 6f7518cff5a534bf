"""Run the benches (or read a pytest-benchmark JSON) and print one table of ratios.

    python benches/summary.py                         # run every bench, print the table
    python benches/summary.py benches/bench_tool.py   # run some bench files only
    python benches/summary.py --json results.json     # read a saved run instead
    python benches/summary.py --save results.json --plot docs/

Each bench file runs in a pytest process of its own. The table has one line per row the benches
recorded (see ``benches/pairing.py``): the measure, its floor, their ratio, the target and
whether it is met; files that failed are named on stderr (and the exit status is 1).
``--plot DIR`` also draws each scaling figure (rows with a ``plot`` entry) as
``DIR/perf-<figure>.png`` (needs matplotlib).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BENCHES = Path(__file__).resolve().parent
COLUMNS = ("measure", "floor", "ratio", "target", "within target")


def bench_files(paths: list[str]) -> list[Path]:
    """The bench files named (files, or folders searched for ``bench_*.py``); all by default."""
    found: list[Path] = []
    for path in map(Path, paths or [str(BENCHES)]):
        found.extend(sorted(path.glob("bench_*.py")) if path.is_dir() else [path])
    return found


def run_benches(paths: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Run each bench file in a pytest process of its own (a crash or a failure stops that file
    only); the benchmarks of the files that passed, and a message per file that did not."""
    benchmarks: list[dict[str, Any]] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for index, path in enumerate(bench_files(paths)):
            json_path = Path(folder) / f"{index}.json"
            command = [
                sys.executable,
                "-m",
                "pytest",
                str(path),
                "--benchmark-only",
                f"--benchmark-json={json_path}",
                "-q",
                "-p",
                "no:cacheprovider",
            ]
            done = subprocess.run(command, cwd=BENCHES.parent, stdout=sys.stderr, check=False)
            if done.returncode != 0:
                failures.append(f"{path.name}: pytest exit status {done.returncode}")
            elif json_path.exists():
                benchmarks.extend(json.loads(json_path.read_text()).get("benchmarks", []))
    return benchmarks, failures


def rows_of(benchmarks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for bench in benchmarks:
        rows.extend(bench.get("extra_info", {}).get("rows", []))
    return rows


def load_rows(json_path: Path) -> list[dict[str, Any]]:
    """The rows of a pytest-benchmark JSON (or of one saved by ``--save``)."""
    return rows_of(json.loads(json_path.read_text()).get("benchmarks", []))


def format_value(value: float, unit: str) -> str:
    if unit != "s":
        return f"{value:.1f} {unit}"
    sign, size = ("-" if value < 0 else ""), abs(value)
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if size >= scale:
            return f"{sign}{size / scale:.3g} {name}"
    return f"{sign}{size / 1e-9:.3g} ns"


def target_label(target: dict[str, Any] | None) -> str:
    if target is None:
        return "—"
    limit, kind = target["limit"], target["kind"]
    if kind == "ratio":
        return f"≤ {limit:g}×"
    if kind == "delta":
        return f"≤ floor + {limit:g} {target['unit']}"
    if kind == "max":
        return f"≤ {limit:g} {target['unit']}"
    return f"≤ {format_value(limit, 's')} per {target['what']}"


def excess(row: dict[str, Any]) -> float:
    """What the target bounds: the ratio, the difference, the difference per item, or the
    value itself."""
    target, value, floor = row["target"], row["value"], row["floor_value"]
    if target["kind"] == "max":
        return float(value)
    if target["kind"] == "ratio":
        return float(value / floor)
    if target["kind"] == "delta":
        return float(value - floor)
    return float((value - floor) * row.get("per", 1) / target["per"])


def ratio_label(row: dict[str, Any]) -> str:
    value, floor, unit, target = row["value"], row["floor_value"], row["unit"], row["target"]
    if floor is None:
        return "—"
    text = f"{value / floor:.2f}×"
    if target is not None and target["kind"] == "delta":
        text += f" ({value - floor:+.1f} {unit})"
    elif target is not None and target["kind"] == "overhead":
        added = excess(row)
        text += f" ({'+' if added >= 0 else ''}{format_value(added, unit)} per {target['what']})"
    return text


def table_lines(rows: Iterable[dict[str, Any]]) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        target = row["target"]
        within = "—" if target is None else ("yes" if excess(row) <= target["limit"] else "**no**")
        floor = row["floor_value"]
        cells = (
            f"{row['measure']} ({format_value(row['value'], row['unit'])})",
            row["floor"]
            if floor is None
            else f"{row['floor']} ({format_value(floor, row['unit'])})",
            ratio_label(row),
            target_label(target),
            within,
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def plot(rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """One PNG per scaling figure: on the left each series' measure (solid) and floor (dashed)
    against x, on the right what the measure adds per unit of x, ``(measure - floor) / x``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        if "plot" in row:
            where = row["plot"]
            figures.setdefault(where["figure"], {}).setdefault(where["series"], []).append(row)
    written = []
    for figure, series in figures.items():
        fig, (total, added) = plt.subplots(1, 2, figsize=(11, 4.2))
        for name, points in series.items():
            points.sort(key=lambda r: r["plot"]["x"])
            xs = [r["plot"]["x"] for r in points]
            line = total.plot(xs, [r["value"] * 1e3 for r in points], marker="o", label=name)
            color = line[0].get_color()
            total.plot(
                xs,
                [r["floor_value"] * 1e3 for r in points],
                linestyle="--",
                color=color,
                alpha=0.6,
                label=f"{name}: floor",
            )
            extra = [(r["value"] - r["floor_value"]) * 1e3 / r["plot"]["x"] for r in points]
            added.plot(xs, extra, marker="o", color=color, label=name)
        xlabel = next(iter(series.values()))[0]["plot"]["xlabel"]
        total.set_title("wall time")
        total.set_ylabel("ms")
        added.set_title("added over the floor, per unit of x")
        added.set_ylabel("ms")
        added.set_ylim(bottom=0)
        for ax in (total, added):
            ax.set_xlabel(xlabel)
            ax.grid(True, alpha=0.3)
            ax.legend()
        fig.suptitle(f"Scaling: {figure}")
        fig.tight_layout()
        path = folder / f"perf-{figure}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", help="bench files or folders (default: benches/)")
    parser.add_argument("--json", type=Path, help="read this pytest-benchmark JSON, run nothing")
    parser.add_argument("--save", type=Path, help="keep the benchmarks of this run as JSON here")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="write scaling PNGs into DIR")
    args = parser.parse_args(argv)
    failures: list[str] = []
    if args.json is not None:
        rows = load_rows(args.json)
    else:
        benchmarks, failures = run_benches(args.paths)
        if args.save is not None:
            args.save.write_text(json.dumps({"benchmarks": benchmarks}, indent=1))
        rows = rows_of(benchmarks)
    print("\n".join(table_lines(rows)))
    if args.plot is not None:
        for path in plot(rows, args.plot):
            print(f"wrote {path}", file=sys.stderr)
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
