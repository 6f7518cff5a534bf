"""State.save / State.load against raw sqlite3 insert / select on the same database file.

Run: ``pytest benches/bench_state.py --benchmark-only``. Both sides use the same file, WAL and
``synchronous=NORMAL``; the raw side stores an already-encoded string, the State side checks
and encodes the value itself, so the ratio is an upper bound of the State layer's overhead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmspell.state.state import StateStore
from llmspell.state.store import Store, open_store

VALUE = {"user": "alice", "count": 42, "ratio": 0.5, "tags": ["a", "b"]}
ENCODED = json.dumps(VALUE, separators=(",", ":"))


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
    conn.commit()
    yield conn
    conn.close()


@pytest.mark.benchmark(group="save")
def test_state_save(benchmark: Any, store: Store) -> None:
    state = StateStore(store)
    benchmark(state.save, "global", "key", VALUE)
    assert state.load("global", "key") == VALUE


@pytest.mark.benchmark(group="save")
def test_raw_sqlite_insert(benchmark: Any, raw: sqlite3.Connection) -> None:
    def insert() -> None:
        raw.execute("INSERT OR REPLACE INTO raw_kv (k, v) VALUES (?, ?)", ("key", ENCODED))
        raw.commit()

    benchmark(insert)


@pytest.mark.benchmark(group="load")
def test_state_load(benchmark: Any, store: Store) -> None:
    state = StateStore(store)
    state.save("global", "key", VALUE)
    assert benchmark(state.load, "global", "key") == VALUE


@pytest.mark.benchmark(group="load")
def test_raw_sqlite_select(benchmark: Any, raw: sqlite3.Connection) -> None:
    raw.execute("INSERT OR REPLACE INTO raw_kv (k, v) VALUES (?, ?)", ("key", ENCODED))
    raw.commit()

    def select() -> str:
        row = raw.execute("SELECT v FROM raw_kv WHERE k = ?", ("key",)).fetchone()
        return str(row[0])

    assert benchmark(select) == ENCODED


@pytest.mark.benchmark(group="load")
def test_raw_sqlite_select_and_decode(benchmark: Any, raw: sqlite3.Connection) -> None:
    """The raw select plus the JSON decoding State.load also does, to separate the two costs."""
    raw.execute("INSERT OR REPLACE INTO raw_kv (k, v) VALUES (?, ?)", ("key", ENCODED))
    raw.commit()

    def select() -> Any:
        row = raw.execute("SELECT v FROM raw_kv WHERE k = ?", ("key",)).fetchone()
        return json.loads(row[0])

    assert benchmark(select) == VALUE
