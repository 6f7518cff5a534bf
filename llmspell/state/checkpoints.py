"""Workflow checkpoints: the progress of a run, one small record per completed step.

A run appends a record after each step it completes (its output and the small state that may
have changed: shared data, loop position, branch choice); loading returns every record of the
run in order, and the workflow layer rebuilds the progress by replaying them. Appending one
record costs the same at the first step and at the ten-thousandth: nothing saved before is
written again.

Each record holds a JSON payload, the hash of the workflow definition it belongs to, its format
version, and a SHA-256 checksum over all three. ``load_records`` refuses (``StateError``) the
records of a run if one of them fails its checksum, is missing (a gap in the sequence numbers),
has a format this llmspell does not read, or belongs to another workflow definition: a bad
checkpoint is reported, never silently used.

The run's workflow definition and input are stored too, so a run can be rebuilt and resumed
from another process (``llmspell runs resume``).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from llmspell.core.errors import StateError, ValidationError
from llmspell.state import values
from llmspell.state.store import Record, Records, Store

SNAPSHOT_FORMAT = 1
"""A record holding a run's whole progress, as llmspell wrote before checkpoints became
incremental (the database migration keeps the newest of each run, as its first record)."""
CHECKPOINT_FORMAT = 2
"""A record of one completed step (or finished loop iteration), replayed after the ones before."""
READABLE_FORMATS = (SNAPSHOT_FORMAT, CHECKPOINT_FORMAT)


class CheckpointStore:
    """Append and load the checkpoint records of runs, and store their workflow definitions."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save_definition(
        self, run_id: str, workflow_hash: str, definition: Mapping[str, Any], input: Any
    ) -> None:
        """Store (or replace) the workflow definition and input a run was started with."""
        definition_text = values.encode_table(definition, f"workflow definition of run {run_id}")
        input_text = values.encode(input, f"workflow input of run {run_id}")
        with self._store.transaction() as conn:
            _ensure_run(conn, run_id)
            conn.execute(
                "INSERT OR REPLACE INTO run_workflows (run_id, workflow_hash, definition, input, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                (run_id, workflow_hash, definition_text, input_text, time.time()),
            )

    def load_definition(self, run_id: str) -> Record | None:
        """``{run_id, workflow_hash, definition, input, created_at}`` or None."""
        row = self._store.fetch_one(
            "SELECT run_id, workflow_hash, definition, input, created_at FROM run_workflows "
            "WHERE run_id = ?",
            (run_id,),
        )
        if row is None:
            return None
        return {
            "run_id": row["run_id"],
            "workflow_hash": row["workflow_hash"],
            "definition": values.decode(row["definition"]),
            "input": values.decode(row["input"]),
            "created_at": row["created_at"],
        }

    def save_checkpoint(self, run_id: str, workflow_hash: str, record: Mapping[str, Any]) -> int:
        """Append a record (a table) to the run's checkpoint; return its sequence number (1,
        2, ...). A run record is created (kind ``workflow``, running) when none exists yet."""
        text = values.encode_table(record, f"checkpoint record of run {run_id}")
        return self.save_encoded_checkpoint(run_id, workflow_hash, text)

    def save_encoded_checkpoint(self, run_id: str, workflow_hash: str, text: str) -> int:
        """``save_checkpoint`` of a record the caller already encoded as the JSON text of a
        table. One transaction: once this returns, the record survives the process being
        killed."""
        if not isinstance(workflow_hash, str) or not workflow_hash:
            raise ValidationError("checkpoint: workflow_hash must be a non-empty string")
        digest = checksum(CHECKPOINT_FORMAT, workflow_hash, text)
        row = (run_id, CHECKPOINT_FORMAT, workflow_hash, text, digest, time.time())
        with self._store.transaction() as conn:
            try:
                return _append(conn, row)
            except sqlite3.IntegrityError:  # the first record of a run that has no record yet
                _ensure_run(conn, run_id)
                return _append(conn, row)

    def load_records(self, run_id: str, workflow_hash: str) -> Records:
        """The run's records, oldest first: ``{sequence, schema_version, payload}`` with the
        payload decoded; an empty list when it has none. ``StateError`` when a record is
        corrupted or missing (the sequence numbers have a gap), of a format this llmspell does
        not read, or saved by another workflow definition than the one of ``workflow_hash``."""
        rows = self._store.fetch_all(
            "SELECT sequence, schema_version, workflow_hash, payload, checksum FROM checkpoints "
            "WHERE run_id = ? ORDER BY sequence",
            (run_id,),
        )
        records = [_verified(run_id, workflow_hash, row) for row in rows]
        expected = 1
        for record in records:
            if record["sequence"] != expected and record["schema_version"] != SNAPSHOT_FORMAT:
                raise StateError(
                    f"checkpoint {expected} of {run_id} is missing; the run cannot be resumed"
                )
            expected = record["sequence"] + 1
        return records

    def list(self, run_id: str) -> Records:
        """The run's records without payloads: ``{run_id, sequence, schema_version,
        workflow_hash, size, created_at}``, oldest first."""
        rows = self._store.fetch_all(
            "SELECT run_id, sequence, schema_version, workflow_hash, length(payload) AS size, "
            "created_at FROM checkpoints WHERE run_id = ? ORDER BY sequence",
            (run_id,),
        )
        return [dict(row) for row in rows]

    def delete(self, run_id: str, sequence: int | None = None) -> int:
        """Delete the run's records from ``sequence`` on (its progress goes back to what the
        records before held), or all of them; return how many."""
        if sequence is None:
            return self._store.execute("DELETE FROM checkpoints WHERE run_id = ?", (run_id,))
        return self._store.execute(
            "DELETE FROM checkpoints WHERE run_id = ? AND sequence >= ?", (run_id, sequence)
        )


def checksum(schema_version: int, workflow_hash: str, payload_text: str) -> str:
    """The SHA-256 a record is stored with, over its format, workflow hash and payload."""
    data = f"{schema_version}\n{workflow_hash}\n{payload_text}".encode()
    return hashlib.sha256(data).hexdigest()


def _verified(run_id: str, workflow_hash: str, row: sqlite3.Row) -> Record:
    label = f"checkpoint {row['sequence']} of {run_id}"
    stored_format, stored_hash, text = row["schema_version"], row["workflow_hash"], row["payload"]
    if checksum(stored_format, stored_hash, text) != row["checksum"]:
        raise StateError(f"{label} is corrupted (checksum mismatch); it cannot be resumed")
    if stored_format not in READABLE_FORMATS:
        readable = " and ".join(str(version) for version in READABLE_FORMATS)
        raise StateError(
            f"{label} has format version {stored_format}; this llmspell reads versions {readable}"
        )
    if stored_hash != workflow_hash:
        raise StateError(
            f"{label}: workflow definition changed since the checkpoint "
            f"(was {stored_hash[:12]}, now {workflow_hash[:12]})"
        )
    return {
        "sequence": row["sequence"],
        "schema_version": stored_format,
        "payload": values.decode(text),
    }


def _append(conn: sqlite3.Connection, row: tuple[Any, ...]) -> int:
    """Insert a record ``(run_id, schema_version, workflow_hash, payload, checksum,
    created_at)`` after the run's last one; its sequence number."""
    last = conn.execute(
        "SELECT COALESCE(MAX(sequence), 0) FROM checkpoints WHERE run_id = ?", (row[0],)
    ).fetchone()
    sequence = int(last[0]) + 1
    conn.execute(
        "INSERT INTO checkpoints (run_id, sequence, schema_version, workflow_hash, payload, "
        "checksum, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (row[0], sequence, *row[1:]),
    )
    return sequence


def _ensure_run(conn: sqlite3.Connection, run_id: str) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise ValidationError("checkpoint: run_id must be a non-empty string")
    now = time.time()
    conn.execute(
        "INSERT OR IGNORE INTO runs (id, kind, status, created_at, started_at, pid) "
        "VALUES (?, 'workflow', 'running', ?, ?, ?)",
        (run_id, now, now, os.getpid()),
    )
