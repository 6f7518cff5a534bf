from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from llmspell.core.config import load_config
from llmspell.core.errors import StateError
from llmspell.state.migrations import LATEST_VERSION
from llmspell.state.state import StateStore
from llmspell.state.store import Store, open_store

V1_SCHEMA = """
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL);
INSERT INTO schema_version VALUES (1, 0);
CREATE TABLE state (
    scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
INSERT INTO state VALUES ('global', 'greeting', '"hello"', 0);
"""


def test_file_store_uses_wal_foreign_keys_and_busy_timeout(file_store: Store) -> None:
    assert file_store.fetch_one("PRAGMA journal_mode")[0] == "wal"
    assert file_store.fetch_one("PRAGMA foreign_keys")[0] == 1
    assert file_store.fetch_one("PRAGMA busy_timeout")[0] == 5000
    assert file_store.schema_version == LATEST_VERSION


def test_data_survives_reopening(db_path: Path) -> None:
    with open_store(path=db_path) as store:
        StateStore(store).save("global", "n", 41)
    with open_store(path=db_path) as store:
        assert StateStore(store).load("global", "n") == 41


def test_migrates_a_version_1_database_and_keeps_its_data(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.executescript(V1_SCHEMA)
    conn.close()
    with open_store(path=db_path) as store:
        assert store.schema_version == LATEST_VERSION
        versions = [row[0] for row in store.fetch_all("SELECT version FROM schema_version")]
        assert versions == list(range(1, LATEST_VERSION + 1))
        assert StateStore(store).load("global", "greeting") == "hello"
        store.execute(
            "INSERT INTO sessions (id, name, status, created_at, updated_at) "
            "VALUES ('s', 'n', 'active', 0, 0)"
        )


def test_refuses_a_database_newer_than_the_code(db_path: Path) -> None:
    open_store(path=db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO schema_version VALUES (?, 0)", (LATEST_VERSION + 2,))
    conn.commit()
    conn.close()
    with pytest.raises(StateError) as info:
        open_store(path=db_path)
    assert str(info.value) == (
        f"database schema version {LATEST_VERSION + 2} is newer than this llmspell supports "
        f"({LATEST_VERSION}); upgrade llmspell"
    )


def test_a_file_that_is_not_a_database_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match=r"junk\.db"):
        open_store(path=path)


def test_open_store_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with open_store() as store:
        assert store.path == tmp_path / "data" / "llmspell" / "llmspell.db"
    config = load_config({"storage": {"path": str(tmp_path / "configured.db")}}, environ={})
    with open_store(config) as store:
        assert store.path == tmp_path / "configured.db"
    with open_store(config, path=tmp_path / "explicit.db") as store:
        assert store.path == tmp_path / "explicit.db"
    memory_config = load_config({"storage": {"backend": "memory"}}, environ={})
    with open_store(memory_config) as store:
        assert store.is_memory
    with open_store(path=":memory:") as store, open_store(memory=True) as other:
        assert store.is_memory and other.is_memory


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("INSERT INTO state VALUES ('global', 'a', '1', 0)")
        raise RuntimeError("boom")
    assert store.fetch_one("SELECT COUNT(*) FROM state")[0] == 0


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        with store.transaction() as inner:
            inner.execute("INSERT INTO state VALUES ('global', 'a', '1', 0)")
        conn.execute("INSERT INTO state VALUES ('global', 'b', '1', 0)")
        raise RuntimeError("boom")
    assert store.fetch_one("SELECT COUNT(*) FROM state")[0] == 0


def test_sqlite_errors_become_state_errors(store: Store) -> None:
    with pytest.raises(StateError, match="no such table"):
        store.execute("DELETE FROM nothing_here")


def test_threads_can_share_one_store(file_store: Store) -> None:
    state = StateStore(file_store)

    def write(prefix: str) -> None:
        for i in range(50):
            state.save("global", f"{prefix}{i}", i)

    threads = [threading.Thread(target=write, args=(f"t{n}-",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(state.list_keys("global")) == 200
