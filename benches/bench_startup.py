"""``llmspell run hello.lua`` vs python + click + lupa running the same Lua, as subprocesses.

Run: ``pytest benches/bench_startup.py --benchmark-only``. The two commands run alternately, each
round a fresh process (see ``processes.py`` for how children run and how their peak RSS is
read). Wall time and peak RSS are medians over the rounds. Targets: wall ≤ 1.5×, peak RSS ≤
floor + 12 MiB.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from pairing import Pairer, Target
from processes import llmspell_command, run_child

HELLO = 'print("hello")\n'
FLOOR = "import click, lupa.lua54 as L; L.LuaRuntime().execute('print(\"hello\")')"
FLOOR_NAME = "python + click + lupa, same Lua"
ROUNDS = 25


def test_hello_startup(paired: Pairer, tmp_path: Path) -> None:
    (tmp_path / "hello.lua").write_text(HELLO)
    llmspell = [*llmspell_command(), "run", "hello.lua"]
    floor = [sys.executable, "-c", FLOOR]
    assert run_child(llmspell, tmp_path)[0] == run_child(floor, tmp_path)[0] == b"hello\n"

    rss: dict[str, list[float]] = {"measure": [], "floor": []}

    def measure() -> None:
        rss["measure"].append(run_child(llmspell, tmp_path)[1])

    def floor_run() -> None:
        rss["floor"].append(run_child(floor, tmp_path)[1])

    paired(
        measure,
        floor_run,
        name="`llmspell run hello.lua` wall",
        floor_name=FLOOR_NAME,
        target=Target.ratio(1.5),
        rounds=ROUNDS,
        warmup=3,
    )
    paired.row(
        "`llmspell run hello.lua` peak RSS",
        FLOOR_NAME,
        statistics.median(rss["measure"][-ROUNDS:]),
        statistics.median(rss["floor"][-ROUNDS:]),
        unit="MiB",
        target=Target.delta(12.0, "MiB"),
        rounds=ROUNDS,
    )
