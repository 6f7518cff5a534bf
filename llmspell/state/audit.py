"""The audit log: append-only records of agent and tool calls, hash-chained.

Each row's ``hash`` is SHA-256 of the previous row's hash followed by the canonical JSON of the
row itself, and a one-row head records the last sequence number and hash. ``verify`` walks the
chain: an edited row, a deleted row (first, middle or last) or an inserted row is detected and
named. Arguments are stored with secrets redacted and long strings shortened.

A record is made in two steps: ``new_entry`` checks and encodes it when the call it describes
ends (its time, arguments and outcome are fixed then), and ``append_entries`` chains and writes
any number of entries in one transaction (``RunAudit`` buffers a run's entries that way).
"""

from __future__ import annotations

import hashlib
import math
import operator
import sqlite3
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

from llmspell.core.config import REDACTED, SECRET_KEYS
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
_INSERT = f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_ROW = operator.itemgetter(*(column.strip() for column in _COLUMNS.split(",")))
"""An entry's values in the order of ``_COLUMNS`` (positional parameters bind faster)."""


def new_entry(
    action: str,
    *,
    actor: str,
    outcome: str,
    arguments: Any = None,
    run_id: str | None = None,
    session_id: str | None = None,
    duration_ms: float | None = None,
) -> dict[str, Any]:
    """A record ready for ``AuditLog.append_entries``, timed now, its arguments redacted,
    shortened and encoded (later changes to ``arguments`` do not reach it)."""
    for field, value in (("action", action), ("actor", actor), ("outcome", outcome)):
        if not isinstance(value, str) or not value:
            raise ValidationError(f"audit {field} must be a non-empty string, got {value!r}")
    return {
        "time": time.time(),
        "run_id": run_id,
        "session_id": session_id,
        "actor": actor,
        "action": action,
        "arguments": jsonutil.dumps(_logged(arguments)),
        "outcome": outcome,
        "duration_ms": None if duration_ms is None else float(duration_ms),
    }


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
        entry = new_entry(
            action,
            actor=actor,
            outcome=outcome,
            arguments=arguments,
            run_id=run_id,
            session_id=session_id,
            duration_ms=duration_ms,
        )
        self.append_entries([entry])
        return _public(entry)

    def append_entries(self, entries: Sequence[dict[str, Any]]) -> None:
        """Chain and write entries made by ``new_entry``, in order, in one transaction (their
        ``seq``, ``prev_hash`` and ``hash`` are set here)."""
        if not entries:
            return
        with self._store.transaction() as conn:
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            seq, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
            for entry in entries:
                seq += 1
                entry["seq"], entry["prev_hash"] = seq, prev_hash
                prev_hash = entry["hash"] = row_hash(entry)
            conn.executemany(_INSERT, map(_ROW, entries))
            conn.execute(
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (seq, prev_hash),
            )

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


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash followed by the canonical JSON of the row."""
    text = _canonical(row)
    if text is None:
        text = jsonutil.dumps({key: row[key] for key in _HASHED})
    return hashlib.sha256((row["prev_hash"] + text).encode()).hexdigest()


def _canonical(row: Mapping[str, Any]) -> str | None:
    """``jsonutil.dumps`` of the hashed fields, written directly for rows of the usual types
    (the same text, in a third of the time); ``None`` for any other row."""
    action, actor, arguments, outcome = (
        row["action"],
        row["actor"],
        row["arguments"],
        row["outcome"],
    )
    prev_hash, run_id, session_id = row["prev_hash"], row["run_id"], row["session_id"]
    seq, when, duration = row["seq"], row["time"], row["duration_ms"]
    if not (
        type(action) is str
        and type(actor) is str
        and type(arguments) is str
        and type(outcome) is str
        and type(prev_hash) is str
        and (run_id is None or type(run_id) is str)
        and (session_id is None or type(session_id) is str)
        and type(seq) is int
        and type(when) is float
        and math.isfinite(when)
        and (duration is None or (type(duration) is float and math.isfinite(duration)))
    ):
        return None
    return (
        f'{{"action":{encode_basestring(action)},"actor":{encode_basestring(actor)},'
        f'"arguments":{encode_basestring(arguments)},'
        f'"duration_ms":{"null" if duration is None else float.__repr__(duration)},'
        f'"outcome":{encode_basestring(outcome)},"prev_hash":{encode_basestring(prev_hash)},'
        f'"run_id":{"null" if run_id is None else encode_basestring(run_id)},'
        f'"seq":{int.__repr__(seq)},'
        f'"session_id":{"null" if session_id is None else encode_basestring(session_id)},'
        f'"time":{float.__repr__(when)}}}'
    )


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


def _logged(value: Any) -> Any:
    """JSON-shaped copy of call arguments for the log: the value of every secret-looking key
    (``api_key``, ``token``...; not ``*_env``, which names a variable) is ``***``, anything not
    JSON becomes its text form, and long strings are shortened."""
    kind = type(value)
    if kind is str:
        return value if len(value) <= MAX_STRING else _shortened(value)
    if value is None or kind is bool or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else repr(value)
    if kind is dict or isinstance(value, Mapping):
        return {
            str(key): REDACTED if _is_secret(key) and item else _logged(item)
            for key, item in value.items()
        }
    if kind is list or kind is tuple:
        return [_logged(item) for item in value]
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return _logged(str(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)):
        return [_logged(item) for item in value]
    return _logged(repr(value))


def _shortened(text: str) -> str:
    return f"{text[:MAX_STRING]}… ({len(text) - MAX_STRING} more characters)"


@lru_cache(maxsize=1024)
def _is_secret(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return not lowered.endswith("_env") and any(s in lowered for s in SECRET_KEYS)
