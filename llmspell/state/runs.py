"""Run records: every script, exec, workflow and embedded run gets an execution id and a row.

Lifecycle: ``create`` (pending) → ``start`` (running) → ``finish`` (completed, failed,
interrupted or cancelled). An interrupted or failed run may be started again (resume).
Cancellation from outside (``llmspell runs cancel``) sets a flag that the running host polls
with ``is_cancel_requested``; a run that has not started yet is cancelled at once.

A run may belong to a session (``session_id``); the session's token and cost totals are the sums
over its runs (``session_totals``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.state.store import Record, Records, Store, check_limit
from llmspell_utils.ids import new_id

KINDS = ("script", "exec", "workflow", "embedded")
STATUSES = ("pending", "running", "completed", "failed", "interrupted", "cancelled")
FINAL_STATUSES = ("completed", "failed", "interrupted", "cancelled")
RESTARTABLE = ("pending", "interrupted", "failed")

_COLUMNS = (
    "id, kind, script, args_hash, status, created_at, started_at, ended_at, error, "
    "error_kind, input_tokens, output_tokens, cost_usd, pid, cancel_requested, session_id"
)


class RunStore:
    """Create, update and query run records."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self,
        kind: str,
        *,
        script: str | None = None,
        args: Any = None,
        run_id: str | None = None,
        session_id: str | None = None,
    ) -> Record:
        """A pending run, in the session ``session_id`` when given; ``args`` (JSON-shaped) is
        kept only as a hash."""
        if kind not in KINDS:
            raise ValidationError(f"run kind '{kind}' is unknown (use {', '.join(KINDS)})")
        run_id = run_id or new_id("run")
        self._store.execute(
            "INSERT INTO runs (id, kind, script, args_hash, status, created_at, session_id) "
            "VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            (run_id, kind, script, args_hash(args), time.time(), session_id),
        )
        return self._require(run_id)

    def set_session(self, run_id: str, session_id: str | None) -> None:
        """Move the run to the session ``session_id`` (``None``: to no session): its tokens
        and cost now count in that session's totals."""
        if not self._store.execute(
            "UPDATE runs SET session_id = ? WHERE id = ?", (session_id, run_id)
        ):
            raise NotFoundError(f"run '{run_id}' not found")

    def session_totals(self, session_id: str, *, exclude_run: str | None = None) -> dict[str, Any]:
        """``{runs, input_tokens, output_tokens, total_tokens, cost_usd}`` summed over the
        runs of the session (all of them, or all but ``exclude_run``). A run's tokens and cost
        are those recorded so far: a run in progress adds its own when it ends."""
        row = self._store.fetch_one(
            "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), "
            "COALESCE(SUM(cost_usd), 0.0) FROM runs WHERE session_id = ? AND id IS NOT ?",
            (session_id, exclude_run),
        )
        count, input_tokens, output_tokens, cost = row if row is not None else (0, 0, 0, 0.0)
        return {
            "runs": int(count),
            "input_tokens": int(input_tokens),
            "output_tokens": int(output_tokens),
            "total_tokens": int(input_tokens) + int(output_tokens),
            "cost_usd": round(float(cost), 6),
        }

    def start(self, run_id: str, *, pid: int | None = None) -> Record:
        """Mark the run running in process ``pid`` (default: this one). A pending,
        interrupted or failed run can start; resuming clears the previous end and error."""
        with self._store.transaction() as conn:
            status = _status(conn, run_id)
            if status not in RESTARTABLE:
                raise StateError(
                    f"run '{run_id}' is {status}; only a pending, interrupted or failed run "
                    "can start"
                )
            conn.execute(
                "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?), "
                "ended_at = NULL, error = NULL, error_kind = NULL, pid = ?, "
                "cancel_requested = 0 WHERE id = ?",
                (time.time(), os.getpid() if pid is None else pid, run_id),
            )
        return self._require(run_id)

    def finish(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        error_kind: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
    ) -> Record:
        """Record the end of a run; token and cost totals replace the stored ones when given."""
        if status not in FINAL_STATUSES:
            raise ValidationError(
                f"run end status '{status}' is unknown (use {', '.join(FINAL_STATUSES)})"
            )
        with self._store.transaction() as conn:
            _status(conn, run_id)
            conn.execute(
                "UPDATE runs SET status = ?, ended_at = ?, error = ?, error_kind = ?, "
                "input_tokens = COALESCE(?, input_tokens), "
                "output_tokens = COALESCE(?, output_tokens), "
                "cost_usd = COALESCE(?, cost_usd) WHERE id = ?",
                (
                    status,
                    time.time(),
                    error,
                    error_kind,
                    input_tokens,
                    output_tokens,
                    cost_usd,
                    run_id,
                ),
            )
        return self._require(run_id)

    def get(self, run_id: str) -> Record | None:
        row = self._store.fetch_one(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return None if row is None else _record(row)

    def list(self, *, status: str | None = None, limit: int = 50) -> Records:
        """Runs newest first, optionally only those with ``status``."""
        if status is not None and status not in STATUSES:
            raise ValidationError(f"run status '{status}' is unknown (use {', '.join(STATUSES)})")
        sql = f"SELECT {_COLUMNS} FROM runs"
        params: list[Any] = []
        if status is not None:
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        params.append(check_limit(limit))
        return [_record(row) for row in self._store.fetch_all(sql, params)]

    def request_cancel(self, run_id: str) -> Record:
        """Cancel a pending run now, or ask a running one to stop. A finished run is left as
        it is (``StateError``)."""
        with self._store.transaction() as conn:
            status = _status(conn, run_id)
            if status == "pending":
                conn.execute(
                    "UPDATE runs SET status = 'cancelled', ended_at = ?, cancel_requested = 1 "
                    "WHERE id = ?",
                    (time.time(), run_id),
                )
            elif status == "running":
                conn.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
            else:
                raise StateError(f"run '{run_id}' already ended ({status}); nothing to cancel")
        return self._require(run_id)

    def is_cancel_requested(self, run_id: str) -> bool:
        row = self._store.fetch_one("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,))
        return bool(row and row[0])

    def mark_abandoned(self) -> int:
        """Mark ``interrupted`` every running run whose process is gone (killed, crashed);
        return how many. Their checkpoints stay, so they can be resumed."""
        rows = self._store.fetch_all(
            "SELECT id, pid, started_at FROM runs WHERE status = 'running'"
        )
        gone = [row["id"] for row in rows if not _alive(row["pid"], row["started_at"])]
        now = time.time()
        with self._store.transaction() as conn:
            for run_id in gone:
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', ended_at = ?, "
                    "error = 'the process running it ended without finishing it', "
                    "error_kind = 'killed' WHERE id = ? AND status = 'running'",
                    (now, run_id),
                )
        return len(gone)

    def _require(self, run_id: str) -> Record:
        record = self.get(run_id)
        if record is None:
            raise NotFoundError(f"run '{run_id}' not found")
        return record


def args_hash(args: Any) -> str | None:
    """SHA-256 of the canonical JSON of a run's arguments (None when there are none)."""
    if args is None:
        return None
    # Imported here: every run creates a record, and most have no arguments (OpenSSL's hashlib
    # costs ~7 ms of import time, a tenth of ``llmspell run hello.lua``).
    import hashlib

    from llmspell_utils import jsonutil

    try:
        text = jsonutil.dumps(args)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"run arguments must be JSON-shaped: {exc}") from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _status(conn: sqlite3.Connection, run_id: str) -> str:
    row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"run '{run_id}' not found")
    return str(row[0])


def _alive(pid: int | None, started_at: float | None) -> bool:
    """Whether ``pid`` is still the process that started the run (not a reused pid)."""
    import psutil

    if pid is None:
        return True
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        created = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return started_at is None or created <= started_at + 1.0


def _record(row: sqlite3.Row) -> Record:
    record = dict(row)
    record["cancel_requested"] = bool(record["cancel_requested"])
    return record
