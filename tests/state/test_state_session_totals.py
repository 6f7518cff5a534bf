"""Runs name their session; a session's tokens and cost are the sums over its runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llmspell.core.errors import NotFoundError, StateError
from llmspell.state.migrations import LATEST_VERSION, MIGRATIONS
from llmspell.state.runs import RunStore
from llmspell.state.store import Store, open_store


def finished(runs: RunStore, session_id: str | None, tokens: tuple[int, int], cost: float) -> str:
    run_id: str = runs.create("script", session_id=session_id)["id"]
    runs.start(run_id)
    runs.finish(run_id, "completed", input_tokens=tokens[0], output_tokens=tokens[1], cost_usd=cost)
    return run_id


def test_session_totals_sum_the_runs_of_the_session(store: Store) -> None:
    runs = RunStore(store)
    first = finished(runs, "session_a", (10, 4), 0.25)
    second = finished(runs, "session_a", (5, 1), 0.125)
    finished(runs, "session_b", (1000, 1000), 9.0)
    finished(runs, None, (7, 7), 1.0)
    assert runs.get(first)["session_id"] == "session_a"  # type: ignore[index]
    assert runs.session_totals("session_a") == {
        "runs": 2,
        "input_tokens": 15,
        "output_tokens": 5,
        "total_tokens": 20,
        "cost_usd": 0.375,
    }
    without_second = runs.session_totals("session_a", exclude_run=second)
    assert without_second["runs"] == 1 and without_second["total_tokens"] == 14
    assert runs.session_totals("session_none") == {
        "runs": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
        "cost_usd": 0.0,
    }


def test_a_run_moves_to_another_session_or_to_none(store: Store) -> None:
    runs = RunStore(store)
    run_id = finished(runs, "session_a", (10, 0), 0.0)
    runs.set_session(run_id, "session_b")
    assert runs.session_totals("session_a")["runs"] == 0
    assert runs.session_totals("session_b")["input_tokens"] == 10
    runs.set_session(run_id, None)
    assert runs.get(run_id)["session_id"] is None  # type: ignore[index]
    assert runs.session_totals("session_b")["runs"] == 0
    with pytest.raises(NotFoundError, match="run 'run_nope' not found"):
        runs.set_session("run_nope", "session_a")


def version_7_database(path: Path) -> None:
    """A database as llmspell left it before runs named their session, with one run in it."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL)")
    for version, statements in MIGRATIONS:
        if version > 7:
            break
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    conn.execute(
        "INSERT INTO runs (id, kind, status, created_at, input_tokens, output_tokens, cost_usd) "
        "VALUES ('run_old', 'script', 'completed', 0, 40, 2, 0.5)"
    )
    conn.commit()
    conn.close()


def test_migration_8_adds_the_session_of_runs_and_keeps_old_runs(db_path: Path) -> None:
    version_7_database(db_path)
    with open_store(path=db_path) as store:
        assert store.schema_version == LATEST_VERSION >= 8
        runs = RunStore(store)
        old = runs.get("run_old")
        assert old is not None and old["session_id"] is None and old["input_tokens"] == 40
        index = store.fetch_one("SELECT sql FROM sqlite_master WHERE name = 'runs_by_session'")
        assert index is not None and "session_id" in index[0]
        finished(runs, "session_a", (1, 1), 0.0)
        assert runs.session_totals("session_a")["runs"] == 1
    with open_store(path=db_path) as store:  # a second opening migrates nothing again
        versions = [row[0] for row in store.fetch_all("SELECT version FROM schema_version")]
        assert versions == list(range(1, LATEST_VERSION + 1))


def test_an_llmspell_without_migration_8_refuses_the_new_database(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(path=db_path).close()
    monkeypatch.setattr("llmspell.state.store.LATEST_VERSION", 7)
    monkeypatch.setattr("llmspell.state.store.MIGRATIONS", MIGRATIONS[:7])
    message = f"schema version {LATEST_VERSION} is newer than this llmspell supports"
    with pytest.raises(StateError, match=message):
        open_store(path=db_path)
