"""``State.save`` / ``State.load`` from Lua against raw sqlite3 insert / select on the same file.

Run: ``pytest benches/bench_state_lua.py --benchmark-only`` (``benches/summary.py`` prints the
ratios). A Lua loop calls ``State.save`` or ``State.load`` ``CALLS`` times per round: bridge
call, argument conversion, scope and value checks, JSON, SQLite, result conversion. The floor is
what a Python program storing the same value with ``sqlite3`` must do at the least: ``json.dumps``
and an upsert, or a select and ``json.loads``, on a table of the same database file, with the
same WAL mode and ``synchronous=NORMAL``. Target: ≤ 1.5× per call.

Two more rows, without a target, compare against a floor that stores and reads already-encoded
text (no JSON at all), the strictest bound of the layers above SQLite.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lua_functions import ScriptFunctions
from pairing import Pairer, Target

from llmspell import Host

CALLS = 200
ROUNDS = 40
TABLE = {"user": "alice", "count": 42, "ratio": 0.5, "tags": ["a", "b"]}
TEXT = "hello"
"""The string saved is ``"hello <i>"``, the table's ``count`` is ``i``: each save changes it."""
LUA_LOOPS = """
local TABLE = {user = "alice", count = 42, ratio = 0.5, tags = {"a", "b"}}
function save_table(n)
  for i = 1, n do
    TABLE.count = i
    State.save("global", "key", TABLE)
  end
  return n
end
function save_text(n)
  for i = 1, n do State.save("global", "key", "hello " .. i) end
  return n
end
function load(n)
  local value
  for _ = 1, n do value = State.load("global", "key") end
  return value
end
"""
RAW_TABLE = (
    "CREATE TABLE IF NOT EXISTS raw_state (scope TEXT NOT NULL, key TEXT NOT NULL, "
    "value TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (scope, key)) WITHOUT ROWID"
)
UPSERT = (
    "INSERT INTO raw_state (scope, key, value, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, "
    "updated_at = excluded.updated_at"
)
SELECT = "SELECT value FROM raw_state WHERE scope = ? AND key = ?"


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "bench.db"


@pytest.fixture
def lua(db_file: Path) -> ScriptFunctions:
    return ScriptFunctions(Host({"storage": {"path": str(db_file)}}, record_runs=False), LUA_LOOPS)


@pytest.fixture
def raw(lua: ScriptFunctions, db_file: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to the file the Lua side uses (created and in WAL mode by then), on a
    table laid out like the State table."""
    conn = sqlite3.connect(db_file, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(RAW_TABLE)
    yield conn
    conn.close()


def raw_save(conn: sqlite3.Connection, value: Any, *, encode: bool = True) -> Callable[[], None]:
    """Write a value that changes on every call, as the Lua loops do (SQLite skips rewriting an
    unchanged row, which would make the floor unrealistically cheap)."""
    texts = [json.dumps(vary(value, i), separators=(",", ":")) for i in range(1, CALLS + 1)]

    def save() -> None:
        for i in range(1, CALLS + 1):
            text = json.dumps(vary(value, i), separators=(",", ":")) if encode else texts[i - 1]
            conn.execute(UPSERT, ("global", "key", text, time.time()))

    return save


def vary(value: Any, i: int) -> Any:
    return {**value, "count": i} if isinstance(value, dict) else f"{value} {i}"


def raw_load(conn: sqlite3.Connection, *, decode: bool = True) -> Callable[[], Any]:
    def load() -> Any:
        value = None
        for _ in range(CALLS):
            text = conn.execute(SELECT, ("global", "key")).fetchone()[0]
            value = json.loads(text) if decode else text
        return value

    return load


def per_call(fn: Callable[[], Any]) -> float:
    """Median seconds per call of ``fn`` (which makes ``CALLS`` calls) over ``ROUNDS`` rounds."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) / CALLS


def bench(
    paired: Pairer,
    name: str,
    measure: Callable[[], Any],
    floor: Callable[[], Any],
    floor_name: str,
    strict_floor: Callable[[], Any] | None,
    strict_name: str,
) -> None:
    """The main row (target 1.5×) and, for tables, a row against the JSON-free floor."""
    measured, _ = paired(
        measure,
        floor,
        name=name,
        floor_name=floor_name,
        target=Target.ratio(1.5),
        rounds=ROUNDS,
        per=CALLS,
    )
    if strict_floor is not None:
        value = statistics.median(measured) / CALLS
        paired.row(
            name, strict_name, value, per_call(strict_floor), unit="s", target=None, rounds=ROUNDS
        )


@pytest.mark.parametrize("value", [TABLE, TEXT], ids=["table", "text"])
def test_state_save(
    paired: Pairer, lua: ScriptFunctions, raw: sqlite3.Connection, value: Any
) -> None:
    is_table = isinstance(value, dict)
    loop = "save_table" if is_table else "save_text"
    assert lua.call(loop, CALLS) == CALLS
    assert lua.call("load", 1) == vary(value, CALLS)
    bench(
        paired,
        f"Lua State.save of a small {'table' if is_table else 'string'} (per call)",
        lambda: lua.call(loop, CALLS),
        raw_save(raw, value),
        "raw sqlite3 json.dumps + upsert, same file",
        raw_save(raw, value, encode=False) if is_table else None,
        "raw sqlite3 upsert of encoded text",
    )


@pytest.mark.parametrize("value", [TABLE, TEXT], ids=["table", "text"])
def test_state_load(
    paired: Pairer, lua: ScriptFunctions, raw: sqlite3.Connection, value: Any
) -> None:
    is_table = isinstance(value, dict)
    lua.call("save_table" if is_table else "save_text", CALLS)
    raw_save(raw, value)()
    assert lua.call("load", CALLS) == vary(value, CALLS)
    assert raw_load(raw)() == vary(value, CALLS)
    bench(
        paired,
        f"Lua State.load of a small {'table' if is_table else 'string'} (per call)",
        lambda: lua.call("load", CALLS),
        raw_load(raw),
        "raw sqlite3 select + json.loads, same file",
        raw_load(raw, decode=False) if is_table else None,
        "raw sqlite3 select of encoded text",
    )
