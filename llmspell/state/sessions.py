"""Sessions: named, tagged containers for artifacts, conversations and session-scoped State.

A session is ``active``, ``suspended`` or ``completed``. Deleting a session deletes its
artifacts, its conversations and its ``session:<id>`` State scope.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import Any

from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.state import values
from llmspell.state.artifacts import delete_orphan_blobs
from llmspell.state.store import Record, Records, Store, check_limit
from llmspell_utils.ids import new_id

STATUSES = ("active", "suspended", "completed")

_COLUMNS = (
    "id, name, description, status, created_at, updated_at, metadata, "
    "(SELECT json_group_array(tag) FROM "
    "(SELECT tag FROM session_tags t WHERE t.session_id = s.id ORDER BY tag)) AS tags, "
    "(SELECT COUNT(*) FROM artifacts a WHERE a.session_id = s.id) AS artifact_count"
)


class SessionStore:
    """Create, find, list and change the status of sessions."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Record:
        """A new active session; ``name`` defaults to its id."""
        session_id = new_id("session")
        name = session_id if name is None else _text(name, "name", allow_empty=False)
        description = _text(description or "", "description", allow_empty=True)
        tag_list = _tags(tags or ())
        meta = values.encode_table(metadata, "session metadata")
        now = time.time()
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (id, name, description, status, created_at, updated_at, "
                "metadata) VALUES (?, ?, ?, 'active', ?, ?, ?)",
                (session_id, name, description, now, now, meta),
            )
            conn.executemany(
                "INSERT INTO session_tags (session_id, tag) VALUES (?, ?)",
                [(session_id, tag) for tag in tag_list],
            )
        return self._require(session_id)

    def get(self, session_id: str) -> Record | None:
        row = self._store.fetch_one(
            f"SELECT {_COLUMNS} FROM sessions s WHERE id = ?", (session_id,)
        )
        return None if row is None else _record(row)

    def find(self, name: str) -> Record | None:
        """The most recently updated session called ``name``."""
        row = self._store.fetch_one(
            f"SELECT {_COLUMNS} FROM sessions s WHERE name = ? ORDER BY updated_at DESC LIMIT 1",
            (name,),
        )
        return None if row is None else _record(row)

    def resolve(self, id_or_name: str) -> Record | None:
        """A session by id, else by name."""
        return self.get(id_or_name) or self.find(id_or_name)

    def get_or_create(self, name: str, *, description: str = "") -> Record:
        """The session called ``name`` (e.g. ``llmspell chat --session NAME``), created if new."""
        return self.find(name) or self.create(name, description=description)

    def list(
        self,
        *,
        tags: Iterable[str] | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> Records:
        """Sessions newest first; with ``tags``, only those carrying every one of them."""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            _check_status(status)
            where.append("status = ?")
            params.append(status)
        tag_list = _tags(tags or ())
        if tag_list:
            marks = ", ".join("?" * len(tag_list))
            where.append(
                f"id IN (SELECT session_id FROM session_tags WHERE tag IN ({marks}) "
                "GROUP BY session_id HAVING COUNT(*) = ?)"
            )
            params.extend(tag_list)
            params.append(len(tag_list))
        sql = f"SELECT {_COLUMNS} FROM sessions s"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY updated_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(check_limit(limit))
        return [_record(row) for row in self._store.fetch_all(sql, params)]

    def suspend(self, session_id: str) -> Record:
        return self._move(session_id, "suspended", ("active",))

    def resume(self, session_id: str) -> Record:
        return self._move(session_id, "active", ("suspended",))

    def complete(self, session_id: str) -> Record:
        return self._move(session_id, "completed", ("active", "suspended"))

    def delete(self, session_id: str) -> bool:
        """Delete the session, its artifacts, conversations and State scope; True if it existed."""
        with self._store.transaction() as conn:
            deleted = conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
            if deleted:
                conn.execute("DELETE FROM state WHERE scope = ?", (f"session:{session_id}",))
                delete_orphan_blobs(conn)
        return deleted > 0

    def _move(self, session_id: str, target: str, allowed_from: tuple[str, ...]) -> Record:
        with self._store.transaction() as conn:
            row = conn.execute("SELECT status FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"session '{session_id}' not found")
            if row[0] not in allowed_from:
                verb = {"suspended": "suspend", "active": "resume", "completed": "complete"}[target]
                raise StateError(
                    f"cannot {verb} session '{session_id}': it is {row[0]} "
                    f"(only {' or '.join(allowed_from)} sessions can be)"
                )
            conn.execute(
                "UPDATE sessions SET status = ?, updated_at = ? WHERE id = ?",
                (target, time.time(), session_id),
            )
        return self._require(session_id)

    def _require(self, session_id: str) -> Record:
        record = self.get(session_id)
        if record is None:
            raise NotFoundError(f"session '{session_id}' not found")
        return record


def _record(row: sqlite3.Row) -> Record:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "tags": values.decode(row["tags"]),
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "metadata": values.decode(row["metadata"]),
        "artifact_count": row["artifact_count"],
    }


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValidationError(f"session status '{status}' is unknown (use {', '.join(STATUSES)})")


def _text(value: Any, field: str, *, allow_empty: bool) -> str:
    if not isinstance(value, str) or (not allow_empty and not value):
        raise ValidationError(f"session {field} must be a non-empty string, got {value!r}")
    return value


def _tags(tags: Iterable[str]) -> list[str]:
    if isinstance(tags, str):
        raise ValidationError("session tags must be a list of strings, got a string")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag:
            raise ValidationError(f"session tags must be non-empty strings, got {tag!r}")
        if tag not in out:
            out.append(tag)
    return out
