from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llmspell.core.errors import StateError, ValidationError
from llmspell.state.checkpoints import (
    CHECKPOINT_FORMAT,
    SNAPSHOT_FORMAT,
    CheckpointStore,
    checksum,
)
from llmspell.state.migrations import LATEST_VERSION, MIGRATIONS
from llmspell.state.runs import RunStore
from llmspell.state.store import Store, open_store

RECORD = {"kind": "step", "key": "fetch", "output": {"n": 3}, "shared": {}}


def payloads(checkpoints: CheckpointStore, run_id: str, workflow_hash: str) -> list[object]:
    return [record["payload"] for record in checkpoints.load_records(run_id, workflow_hash)]


def test_records_are_appended_and_loaded_in_order(store: Store) -> None:
    run_id = RunStore(store).create("workflow")["id"]
    checkpoints = CheckpointStore(store)
    assert checkpoints.load_records(run_id, "h1") == []
    assert checkpoints.save_checkpoint(run_id, "h1", RECORD) == 1
    second = {**RECORD, "key": "parse"}
    assert checkpoints.save_checkpoint(run_id, "h1", second) == 2
    assert checkpoints.load_records(run_id, "h1") == [
        {"sequence": 1, "schema_version": CHECKPOINT_FORMAT, "payload": RECORD},
        {"sequence": 2, "schema_version": CHECKPOINT_FORMAT, "payload": second},
    ]
    listed = checkpoints.list(run_id)
    assert [(c["sequence"], c["workflow_hash"], c["schema_version"]) for c in listed] == [
        (1, "h1", CHECKPOINT_FORMAT),
        (2, "h1", CHECKPOINT_FORMAT),
    ]


def test_every_record_is_kept_and_each_holds_only_its_own_data(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    for step in range(50):
        checkpoints.save_checkpoint("run_x", "h", {"step": step})
    assert [c["sequence"] for c in checkpoints.list("run_x")] == list(range(1, 51))
    assert payloads(checkpoints, "run_x", "h") == [{"step": step} for step in range(50)]
    sizes = {c["size"] for c in checkpoints.list("run_x")}
    assert max(sizes) <= len('{"step":49}')
    assert checkpoints.save_checkpoint("run_y", "h", {"step": 0}) == 1  # sequences are per run


def test_a_checkpoint_creates_its_run_record(store: Store) -> None:
    CheckpointStore(store).save_checkpoint("run_embedded", "h", RECORD)
    run = RunStore(store).get("run_embedded")
    assert run is not None
    assert (run["kind"], run["status"]) == ("workflow", "running")


@pytest.mark.parametrize("corrupted", [4, 2])
def test_a_corrupted_record_is_reported(store: Store, corrupted: int) -> None:
    checkpoints = CheckpointStore(store)
    for _ in range(4):
        checkpoints.save_checkpoint("run_c", "h", RECORD)
    store.execute(
        "UPDATE checkpoints SET payload = replace(payload, '3', '4') "
        "WHERE run_id = 'run_c' AND sequence = ?",
        (corrupted,),
    )
    with pytest.raises(StateError, match=f"checkpoint {corrupted} of run_c is corrupted"):
        checkpoints.load_records("run_c", "h")


def test_a_missing_record_is_reported(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    for step in range(4):
        checkpoints.save_checkpoint("run_m", "h", {"step": step})
    store.execute("DELETE FROM checkpoints WHERE run_id = 'run_m' AND sequence = 2")
    with pytest.raises(StateError, match="checkpoint 2 of run_m is missing"):
        checkpoints.load_records("run_m", "h")
    store.execute("DELETE FROM checkpoints WHERE run_id = 'run_m' AND sequence = 1")
    with pytest.raises(StateError, match="checkpoint 1 of run_m is missing"):
        checkpoints.load_records("run_m", "h")


def test_a_record_of_another_format_is_reported(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    checkpoints.save_checkpoint("run_f", "h", RECORD)
    row = store.fetch_one("SELECT payload FROM checkpoints")
    assert row is not None
    payload = row[0]
    store.execute(
        "UPDATE checkpoints SET schema_version = 3, checksum = ?", (checksum(3, "h", payload),)
    )
    with pytest.raises(
        StateError,
        match="checkpoint 1 of run_f has format version 3; this llmspell reads versions 1 and 2",
    ):
        checkpoints.load_records("run_f", "h")


def test_a_changed_workflow_is_reported(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    checkpoints.save_checkpoint("run_w", "abc", RECORD)
    with pytest.raises(StateError, match="workflow definition changed since the checkpoint"):
        checkpoints.load_records("run_w", "def")


def test_definition_and_input(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    definition = {"name": "wf", "type": "sequential", "steps": [{"name": "a", "type": "tool"}]}
    checkpoints.save_definition("run_d", "h", definition, {"topic": "x"})
    loaded = checkpoints.load_definition("run_d")
    assert loaded is not None
    assert (loaded["workflow_hash"], loaded["definition"], loaded["input"]) == (
        "h",
        definition,
        {"topic": "x"},
    )
    assert checkpoints.load_definition("run_none") is None


def test_invalid_records_and_deletion(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    with pytest.raises(ValidationError, match="checkpoint record of run run_i"):
        checkpoints.save_checkpoint("run_i", "h", {"fn": print})
    with pytest.raises(ValidationError, match="workflow_hash"):
        checkpoints.save_checkpoint("run_i", "", RECORD)
    for step in range(3):
        checkpoints.save_checkpoint("run_i", "h", {"step": step})
    assert checkpoints.delete("run_i", 2) == 2  # the records from 2 on
    assert payloads(checkpoints, "run_i", "h") == [{"step": 0}]
    assert checkpoints.save_checkpoint("run_i", "h", {"step": 1}) == 2
    assert checkpoints.delete("run_i") == 2
    assert checkpoints.load_records("run_i", "h") == []


def version_6_database(path: Path, snapshots: dict[str, int]) -> None:
    """A database as llmspell left it before incremental checkpoints: ``snapshots`` whole-progress
    checkpoints (format 1) per run."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL)")
    for version, statements in MIGRATIONS:
        if version > 6:
            break
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    for run_id, count in snapshots.items():
        conn.execute(
            "INSERT INTO runs (id, kind, status, created_at) VALUES (?, 'workflow', 'failed', 0)",
            (run_id,),
        )
        for sequence in range(1, count + 1):
            text = f'{{"completed":{{}},"sequence":{sequence}}}'
            conn.execute(
                "INSERT INTO checkpoints VALUES (?, ?, ?, 'h', ?, ?, 0)",
                (run_id, sequence, SNAPSHOT_FORMAT, text, checksum(SNAPSHOT_FORMAT, "h", text)),
            )
    conn.commit()
    conn.close()


def test_an_older_database_keeps_the_newest_whole_checkpoint_of_each_run(db_path: Path) -> None:
    version_6_database(db_path, {"run_old": 3, "run_other": 1})
    with open_store(path=db_path) as store:
        assert store.schema_version == LATEST_VERSION
        checkpoints = CheckpointStore(store)
        assert checkpoints.load_records("run_old", "h") == [
            {
                "sequence": 3,
                "schema_version": SNAPSHOT_FORMAT,
                "payload": {"completed": {}, "sequence": 3},
            }
        ]
        assert [c["sequence"] for c in checkpoints.list("run_other")] == [1]
        assert checkpoints.save_checkpoint("run_old", "h", RECORD) == 4
        assert [r["schema_version"] for r in checkpoints.load_records("run_old", "h")] == [
            SNAPSHOT_FORMAT,
            CHECKPOINT_FORMAT,
        ]
        table = store.fetch_one("SELECT sql FROM sqlite_master WHERE name = 'checkpoints'")
        assert table is not None and "WITHOUT ROWID" in table[0]
        store.execute("DELETE FROM runs WHERE id = 'run_old'")
        assert checkpoints.list("run_old") == []  # the records go with their run
