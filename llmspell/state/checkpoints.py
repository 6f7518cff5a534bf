"""Workflow checkpoints: the progress of a run, saved after each completed step.

A checkpoint holds a JSON payload chosen by the workflow executor (outputs so far, shared data,
completed steps, loop position), the hash of the workflow definition it belongs to, the format
version, and a SHA-256 checksum over all three. ``load_latest`` refuses (``StateError``) a
checkpoint whose checksum does not match, whose format this llmspell does not read, or whose
workflow definition has changed: a bad checkpoint is reported, never silently used.

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

CHECKPOINT_FORMAT = 1
DEFAULT_KEEP = 3


class CheckpointStore:
    """Save and load checkpoints and workflow definitions of runs. Only the newest ``keep``
    checkpoints of a run are kept (each one holds the whole progress)."""

    def __init__(self, store: Store, *, keep: int = DEFAULT_KEEP) -> None:
        if keep < 1:
            raise ValidationError(f"keep must be at least 1, got {keep}")
        self._store = store
        self.keep = keep

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

    def save_checkpoint(self, run_id: str, workflow_hash: str, payload: Mapping[str, Any]) -> int:
        """Append a checkpoint; return its sequence number (1, 2, ...). A run record is
        created (kind ``workflow``, running) when none exists yet."""
        text = values.encode_table(payload, f"checkpoint payload of run {run_id}")
        return self.save_encoded_checkpoint(run_id, workflow_hash, text)

    def save_encoded_checkpoint(self, run_id: str, workflow_hash: str, text: str) -> int:
        """``save_checkpoint`` of a payload the caller already encoded as the JSON text of a
        table (a workflow run encodes each step's output once, not at every checkpoint)."""
        if not isinstance(workflow_hash, str) or not workflow_hash:
            raise ValidationError("checkpoint: workflow_hash must be a non-empty string")
        with self._store.transaction() as conn:
            _ensure_run(conn, run_id)
            row = conn.execute(
                "SELECT COALESCE(MAX(sequence), 0) FROM checkpoints WHERE run_id = ?", (run_id,)
            ).fetchone()
            sequence = int(row[0]) + 1
            conn.execute(
                "INSERT INTO checkpoints (run_id, sequence, schema_version, workflow_hash, "
                "payload, checksum, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    sequence,
                    CHECKPOINT_FORMAT,
                    workflow_hash,
                    text,
                    checksum(CHECKPOINT_FORMAT, workflow_hash, text),
                    time.time(),
                ),
            )
            conn.execute(
                "DELETE FROM checkpoints WHERE run_id = ? AND sequence <= ?",
                (run_id, sequence - self.keep),
            )
        return sequence

    def load_latest(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        """The payload of the run's newest checkpoint, or None when it has none."""
        row = self._store.fetch_one(
            "SELECT sequence, schema_version, workflow_hash, payload, checksum FROM checkpoints "
            "WHERE run_id = ? ORDER BY sequence DESC LIMIT 1",
            (run_id,),
        )
        if row is None:
            return None
        label = f"checkpoint {row['sequence']} of {run_id}"
        stored_format, stored_hash = row["schema_version"], row["workflow_hash"]
        text = row["payload"]
        if checksum(stored_format, stored_hash, text) != row["checksum"]:
            raise StateError(f"{label} is corrupted (checksum mismatch); it cannot be resumed")
        if stored_format != CHECKPOINT_FORMAT:
            raise StateError(
                f"{label} has format version {stored_format}; this llmspell reads version "
                f"{CHECKPOINT_FORMAT}"
            )
        if stored_hash != workflow_hash:
            raise StateError(
                f"{label}: workflow definition changed since the checkpoint "
                f"(was {stored_hash[:12]}, now {workflow_hash[:12]})"
            )
        payload: dict[str, Any] = values.decode(text)
        return payload

    def list(self, run_id: str) -> Records:
        """The run's checkpoints without payloads: ``{run_id, sequence, schema_version,
        workflow_hash, size, created_at}``, oldest first."""
        rows = self._store.fetch_all(
            "SELECT run_id, sequence, schema_version, workflow_hash, length(payload) AS size, "
            "created_at FROM checkpoints WHERE run_id = ? ORDER BY sequence",
            (run_id,),
        )
        return [dict(row) for row in rows]

    def delete(self, run_id: str, sequence: int | None = None) -> int:
        """Delete one checkpoint, or all of a run's; return how many."""
        if sequence is None:
            return self._store.execute("DELETE FROM checkpoints WHERE run_id = ?", (run_id,))
        return self._store.execute(
            "DELETE FROM checkpoints WHERE run_id = ? AND sequence = ?", (run_id, sequence)
        )


def checksum(schema_version: int, workflow_hash: str, payload_text: str) -> str:
    data = f"{schema_version}\n{workflow_hash}\n{payload_text}".encode()
    return hashlib.sha256(data).hexdigest()


def _ensure_run(conn: sqlite3.Connection, run_id: str) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise ValidationError("checkpoint: run_id must be a non-empty string")
    now = time.time()
    conn.execute(
        "INSERT OR IGNORE INTO runs (id, kind, status, created_at, started_at, pid) "
        "VALUES (?, 'workflow', 'running', ?, ?, ?)",
        (run_id, now, now, os.getpid()),
    )
