"""The audit log: append-only records of agent and tool calls, hash-chained.

Each row's ``hash`` is SHA-256 of the previous row's hash followed by the canonical JSON of the
row itself, and a one-row head records the last sequence number and hash. ``verify`` walks the
chain: an edited row, a deleted row (first, middle or last) or an inserted row is detected and
named. Arguments are stored with secrets redacted and long strings shortened.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import time
from typing import Any

from llmspell.core.config import redact_secrets
from llmspell.core.errors import ValidationError
from llmspell.state import values
from llmspell.state.store import Record, Records, Store, check_limit
from llmspell_utils import jsonutil

GENESIS_HASH = "0" * 64
MAX_STRING = 2000
_BATCH = 1000

_HASHED = (  # the fields covered by a row's hash
    "seq",
    "time",
    "run_id",
    "session_id",
    "actor",
    "action",
    "arguments",
    "outcome",
    "duration_ms",
    "prev_hash",
)


_COLUMNS = (
    "seq, time, run_id, session_id, actor, action, arguments, outcome, duration_ms, prev_hash, hash"
)


class AuditLog:
    """Append to, read and verify the audit log."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def append(
        self,
        action: str,
        *,
        actor: str,
        outcome: str,
        arguments: Any = None,
        run_id: str | None = None,
        session_id: str | None = None,
        duration_ms: float | None = None,
    ) -> Record:
        """Append one record, e.g. ``append("tool.execute", actor="tool:calculator",
        outcome="success", arguments=params, run_id=..., duration_ms=3.2)``."""
        for field, value in (("action", action), ("actor", actor), ("outcome", outcome)):
            if not isinstance(value, str) or not value:
                raise ValidationError(f"audit {field} must be a non-empty string, got {value!r}")
        row: dict[str, Any] = {
            "time": time.time(),
            "run_id": run_id,
            "session_id": session_id,
            "actor": actor,
            "action": action,
            "arguments": jsonutil.dumps(_plain(redact_secrets(arguments))),
            "outcome": outcome,
            "duration_ms": None if duration_ms is None else float(duration_ms),
        }
        with self._store.transaction() as conn:
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            row["seq"], row["prev_hash"] = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
            row["hash"] = row_hash(row)
            conn.execute(
                f"INSERT INTO audit_log ({_COLUMNS}) VALUES ("
                ":seq, :time, :run_id, :session_id, :actor, :action, :arguments, :outcome, "
                ":duration_ms, :prev_hash, :hash)",
                row,
            )
            conn.execute(
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (row["seq"], row["hash"]),
            )
        return _public(row)

    def list(
        self,
        *,
        run_id: str | None = None,
        session_id: str | None = None,
        limit: int = 100,
    ) -> Records:
        """The newest ``limit`` records (optionally of one run or session), oldest first."""
        where: list[str] = []
        params: list[Any] = []
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        if session_id is not None:
            where.append("session_id = ?")
            params.append(session_id)
        sql = f"SELECT {_COLUMNS} FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(check_limit(limit))
        rows = self._store.fetch_all(sql, params)
        return [_public(dict(row)) for row in reversed(rows)]

    def verify(self) -> tuple[bool, int | None, str]:
        """Check the whole chain: ``(ok, first bad sequence number or None, reason)``."""
        expected, prev_hash = 1, GENESIS_HASH
        while True:
            rows = self._store.fetch_all(
                f"SELECT {_COLUMNS} FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?",
                (expected, _BATCH),
            )
            for row in rows:
                problem = _check_row(row, expected, prev_hash)
                if problem is not None:
                    return False, *problem
                prev_hash = row["hash"]
                expected += 1
            if len(rows) < _BATCH:
                break
        last = expected - 1
        head = self._store.fetch_one("SELECT seq, hash FROM audit_head WHERE id = 1")
        head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
        if head_seq > last:
            return False, last + 1, _deleted(last + 1, head_seq)
        if head_seq < last:
            return False, head_seq + 1, f"audit row {head_seq + 1} was not written by the log"
        if head_hash != prev_hash:
            return False, last, f"audit row {last} was replaced"
        return True, None, f"{last} audit rows verified"


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 of the previous hash followed by the canonical JSON of the row."""
    content = {key: row[key] for key in _HASHED}
    return hashlib.sha256((row["prev_hash"] + jsonutil.dumps(content)).encode()).hexdigest()


def _check_row(row: sqlite3.Row, expected: int, prev_hash: str) -> tuple[int, str] | None:
    seq = row["seq"]
    if seq != expected:
        return expected, _deleted(expected, seq - 1)
    if row["prev_hash"] != prev_hash:
        return seq, f"audit row {seq} does not follow row {seq - 1} (that row was changed)"
    if row_hash(dict(row)) != row["hash"]:
        return seq, f"audit row {seq} was modified (its content does not match its hash)"
    return None


def _deleted(first: int, last: int) -> str:
    if first == last:
        return f"audit row {first} was deleted"
    return f"audit rows {first} to {last} were deleted"


def _public(row: dict[str, Any]) -> Record:
    record = {key: row[key] for key in (*_HASHED, "hash")}
    record["arguments"] = values.decode(row["arguments"])
    return record


def _plain(value: Any) -> Any:
    """JSON-shaped copy of call arguments for the log: anything else becomes its text form,
    and long strings are shortened."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        if len(value) <= MAX_STRING:
            return value
        return f"{value[:MAX_STRING]}… ({len(value) - MAX_STRING} more characters)"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return _plain(repr(value))
