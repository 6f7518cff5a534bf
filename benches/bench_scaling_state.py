"""Scaling with State size: ``State.save`` / ``State.load`` from Lua of values of S KB.

Run: ``pytest benches/bench_scaling_state.py --benchmark-only``. For S in ``SIZES_KB``, two
values of S KB of JSON each, saved alternately under one key (so every save changes the row):
- a string of S × 1024 characters;
- a table of S × 1024 / 20 keys ``k000001 = "v000001"``, 20 bytes of JSON per entry.
The floor is the same as ``bench_state_lua.py``'s: raw ``sqlite3`` on the same database file
(WAL, ``synchronous=NORMAL``), ``json.dumps`` and an upsert, or a select and ``json.loads``, of
the same values (the same JSON bytes). Automatic WAL checkpoints are off on both connections:
with values this large the WAL reaches SQLite's 1000-page threshold every few saves, and as the
two sides alternate, the checkpoint would land on the same side each time (every fourth save
with 1 MB values). What grows with S on both sides is the copy, the JSON and SQLite's pages;
what only the Lua side pays is the conversion between Lua and Python (per byte for strings, per
entry for tables) and the JSON-shape check. The plot's right panel is that difference per KB.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bench_state_lua import RAW_TABLE, SELECT, UPSERT
from lua_functions import ScriptFunctions
from pairing import Pairer, Plot

from llmspell import Host

SIZES_KB = (1, 100, 500, 1000)
NO_AUTO_CHECKPOINT = "PRAGMA wal_autocheckpoint = 0"
ENTRY_BYTES = 20
"""JSON bytes of one table entry: ``"k000001":"v000001",``."""
LUA = """
local function text(kb, letter) return string.rep(letter, kb * 1024) end
local function table_of(kb, prefix)
  local t = {}
  for i = 1, kb * 1024 // ENTRY_BYTES do
    t[string.format("k%06d", i)] = string.format("%s%06d", prefix, i)
  end
  return t
end
local VALUES = {
  string = {text(KB, "a"), text(KB, "b")},
  table = {table_of(KB, "v"), table_of(KB, "w")},
}

function save(kind, n)
  local values = VALUES[kind]
  for i = 1, n do State.save("global", "key", values[i % 2 + 1]) end
  return n
end

function load(n)
  local value
  for _ = 1, n do value = State.load("global", "key") end
  return value ~= nil
end

function current()
  return State.load("global", "key")
end
"""


def values(kind: str, kb: int) -> tuple[Any, Any]:
    """The two values the Lua script holds, built the same way in Python."""
    if kind == "string":
        return "a" * kb * 1024, "b" * kb * 1024
    keys = [f"k{i:06d}" for i in range(1, kb * 1024 // ENTRY_BYTES + 1)]
    return (
        {key: f"v{key[1:]}" for key in keys},
        {key: f"w{key[1:]}" for key in keys},
    )


def calls_for(kb: int) -> int:
    """State calls per timed round: a round of a few ms with small values, one call with
    large ones."""
    return max(1, 50 // kb)


def rounds_for(kb: int) -> int:
    """Fewer rounds for large values (a 1 MB table takes 0.1 s or more from Lua)."""
    return 15 if kb <= 100 else 7


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "bench.db"


def open_raw(db_file: Path) -> sqlite3.Connection:
    """A plain connection to the file the Lua side uses (WAL, ``synchronous=NORMAL``, as the
    store opens it), on a table laid out like State's."""
    conn = sqlite3.connect(db_file, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(NO_AUTO_CHECKPOINT)
    conn.execute(RAW_TABLE)
    return conn


@pytest.fixture
def raw(db_file: Path) -> Iterator[sqlite3.Connection]:
    conn = open_raw(db_file)
    yield conn
    conn.close()


def script(db_file: Path, kb: int) -> ScriptFunctions:
    """A run holding the two values of ``kb`` KB; its store checkpoints the WAL only when told."""
    host = Host({"storage": {"path": str(db_file)}}, record_runs=False)
    host.services.store.execute(NO_AUTO_CHECKPOINT)
    source = LUA.replace("ENTRY_BYTES", str(ENTRY_BYTES)).replace("KB", str(kb))
    return ScriptFunctions(host, source)


def raw_save(conn: sqlite3.Connection, pair: tuple[Any, Any], n: int) -> Callable[[], None]:
    def save() -> None:
        for i in range(1, n + 1):
            text = json.dumps(pair[i % 2], separators=(",", ":"))
            conn.execute(UPSERT, ("global", "key", text, time.time()))

    return save


def raw_load(conn: sqlite3.Connection, n: int) -> Callable[[], bool]:
    def load() -> bool:
        value = None
        for _ in range(n):
            value = json.loads(conn.execute(SELECT, ("global", "key")).fetchone()[0])
        return value is not None

    return load


@pytest.mark.parametrize("kb", SIZES_KB)
@pytest.mark.parametrize("kind", ["string", "table"])
@pytest.mark.parametrize("operation", ["save", "load"])
def test_state_size(
    paired: Pairer, db_file: Path, raw: sqlite3.Connection, operation: str, kind: str, kb: int
) -> None:
    lua, pair, calls = script(db_file, kb), values(kind, kb), calls_for(kb)
    assert lua.call("save", kind, calls) == calls
    raw_save(raw, pair, calls)()
    assert lua.call("current") == pair[calls % 2]
    assert raw_load(raw, 1)() and lua.call("load", 1)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    saving = operation == "save"
    args = ("save", kind, calls) if saving else ("load", calls)
    floor = raw_save(raw, pair, calls) if saving else raw_load(raw, calls)
    floor_name = "raw sqlite3 " + ("json.dumps + upsert" if saving else "select + json.loads")
    what = f"{kb * 1024} characters" if kind == "string" else f"{len(pair[0])} keys"
    paired(
        lambda: lua.call(*args),
        floor,
        name=f"Lua State.{operation} of a {kb} KB {kind} ({what}, per call)",
        floor_name=f"{floor_name}, same file and bytes",
        target=None,
        rounds=rounds_for(kb),
        per=calls,
        plot=Plot("state-size", f"State.{operation}, {kind}", kb, "value size (KB of JSON)"),
    )
