"""State.save / State.load against raw sqlite3 insert / select on the same database file.

Run: ``pytest benches/bench_state.py --benchmark-only``. Both sides use the same file, WAL and
``synchronous=NORMAL``; the raw side stores an already-encoded string, the State side checks
and encodes the value itself, so the ratio is an upper bound of the State layer's overhead.
This file measures the Python ``StateStore``; ``bench_state_lua.py`` measures the Lua ``State``
global above it. Target: ≤ 1.5×.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pairing import Pairer, Target

from llmspell.state.state import StateStore
from llmspell.state.store import Store, open_store

VALUE = {"user": "alice", "count": 42, "ratio": 0.5, "tags": ["a", "b"]}
ENCODED = json.dumps(VALUE, separators=(",", ":"))
CALLS = 50


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "bench.db"


@pytest.fixture
def store(db_file: Path) -> Iterator[Store]:
    with open_store(path=db_file) as opened:
        yield opened


@pytest.fixture
def raw(store: Store, db_file: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db_file)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS raw_kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
    conn.execute("INSERT OR REPLACE INTO raw_kv (k, v) VALUES (?, ?)", ("key", ENCODED))
    conn.commit()
    yield conn
    conn.close()


def raw_insert(conn: sqlite3.Connection) -> Callable[[], None]:
    def insert() -> None:
        conn.execute("INSERT OR REPLACE INTO raw_kv (k, v) VALUES (?, ?)", ("key", ENCODED))
        conn.commit()

    return insert


def raw_select(conn: sqlite3.Connection) -> Callable[[], str]:
    def select() -> str:
        row = conn.execute("SELECT v FROM raw_kv WHERE k = ?", ("key",)).fetchone()
        return str(row[0])

    return select


def repeat(fn: Callable[[], Any], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            fn()

    return run


def test_state_save(paired: Pairer, store: Store, raw: sqlite3.Connection) -> None:
    state = StateStore(store)
    paired(
        repeat(lambda: state.save("global", "key", VALUE), CALLS),
        repeat(raw_insert(raw), CALLS),
        name="StateStore.save, Python API (per call)",
        floor_name="raw sqlite3 insert + commit, same file",
        target=Target.ratio(1.5),
        rounds=40,
        per=CALLS,
    )
    assert state.load("global", "key") == VALUE


def test_state_load(paired: Pairer, store: Store, raw: sqlite3.Connection) -> None:
    state = StateStore(store)
    state.save("global", "key", VALUE)
    assert raw_select(raw)() == ENCODED
    paired(
        repeat(lambda: state.load("global", "key"), CALLS),
        repeat(raw_select(raw), CALLS),
        name="StateStore.load, Python API (per call)",
        floor_name="raw sqlite3 select, same file",
        target=Target.ratio(1.5),
        rounds=40,
        per=CALLS,
    )
