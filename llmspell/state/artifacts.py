"""Artifacts: named content stored in a session, content-addressed and deduplicated.

Content is kept once per SHA-256 (``blobs``), however many artifacts refer to it, and removed
when the last one goes. Content larger than ``compress_threshold`` is stored zlib-compressed
when that saves space. The hash is checked again on every read.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.state import values
from llmspell.state.store import Record, Records, Store, check_limit

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_COMPRESS_THRESHOLD = 64 * 1024

_COLUMN_NAMES = (
    "session_id",
    "sequence",
    "type",
    "name",
    "content_hash",
    "size",
    "is_text",
    "metadata",
    "created_at",
)
_COLUMNS = ", ".join(_COLUMN_NAMES)
_A_COLUMNS = ", ".join(f"a.{name}" for name in _COLUMN_NAMES)
_QUERY_KEYS = (
    "session_id",
    "type",
    "artifact_type",
    "name",
    "name_pattern",
    "tags",
    "created_after",
    "created_before",
    "min_size",
    "max_size",
    "limit",
)


class ArtifactStore:
    """Store and read session artifacts."""

    def __init__(
        self,
        store: Store,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        compress_threshold: int = DEFAULT_COMPRESS_THRESHOLD,
    ) -> None:
        self._store = store
        self.max_bytes = max_bytes
        self.compress_threshold = compress_threshold

    def store(
        self,
        session_id: str,
        type: str,
        name: str,
        content: bytes | str,
        metadata: Mapping[str, Any] | None = None,
    ) -> Record:
        """Store ``content`` as the session's next artifact; return ``{content_hash,
        session_id, sequence}``. Text comes back from ``get`` as text, bytes as bytes."""
        _check_label(type, "type")
        _check_label(name, "name")
        is_text = isinstance(content, str)
        if isinstance(content, str):
            data = content.encode("utf-8")
        elif isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
        else:
            raise ValidationError(
                f"artifact '{name}': content must be a string or bytes, "
                f"got {content.__class__.__name__}"
            )
        self._check_size(name, len(data))
        meta = values.encode_table(metadata, f"artifact '{name}' metadata")
        digest = hashlib.sha256(data).hexdigest()
        stored, compressed = self._pack(data)
        now = time.time()
        with self._store.transaction() as conn:
            row = conn.execute(
                "UPDATE sessions SET artifact_seq = artifact_seq + 1, updated_at = ? "
                "WHERE id = ? RETURNING artifact_seq",
                (now, session_id),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"session '{session_id}' not found")
            sequence = int(row[0])
            conn.execute(
                "INSERT OR IGNORE INTO blobs (hash, size, compressed, data) VALUES (?, ?, ?, ?)",
                (digest, len(data), int(compressed), stored),
            )
            conn.execute(
                f"INSERT INTO artifacts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, sequence, type, name, digest, len(data), int(is_text), meta, now),
            )
        return {"content_hash": digest, "session_id": session_id, "sequence": sequence}

    def store_file(
        self,
        session_id: str,
        path: str | os.PathLike[str],
        *,
        type: str = "file",
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Record:
        """Store a file's bytes; ``name`` defaults to the file name. The caller decides whether
        the path may be read (the Lua adapter applies the configured file permissions)."""
        import mimetypes

        file = Path(path)
        label = name if name is not None else file.name
        try:
            size = file.stat().st_size
            self._check_size(label, size)
            data = file.read_bytes()
        except OSError as exc:
            raise ValidationError(f"artifact file '{file}': {exc.strerror}") from None
        mime, _ = mimetypes.guess_type(file.name)
        meta: Any = metadata
        if metadata is None or isinstance(metadata, Mapping):
            found = {"source_path": str(file), **({"mime_type": mime} if mime else {})}
            meta = {**found, **(metadata or {})}
        return self.store(session_id, type, label, data, meta)

    def get(self, session_id: str, sequence: int) -> Record | None:
        """The artifact with its ``content``; None when there is no such artifact."""
        row = self._store.fetch_one(
            f"SELECT {_A_COLUMNS}, b.data, b.compressed FROM artifacts a "
            "JOIN blobs b ON b.hash = a.content_hash WHERE a.session_id = ? AND a.sequence = ?",
            (session_id, sequence),
        )
        if row is None:
            return None
        record = _record(row)
        data = zlib.decompress(row["data"]) if row["compressed"] else bytes(row["data"])
        if hashlib.sha256(data).hexdigest() != row["content_hash"]:
            raise StateError(
                f"artifact {sequence} of session '{session_id}' is corrupted "
                "(its content does not match its hash)"
            )
        record["content"] = data.decode("utf-8") if row["is_text"] else data
        return record

    def list(self, session_id: str) -> Records:
        """The session's artifacts (without content), oldest first."""
        return self.query({"session_id": session_id})

    def delete(self, session_id: str, sequence: int) -> bool:
        """Delete one artifact (its content too, when no other artifact shares it)."""
        with self._store.transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM artifacts WHERE session_id = ? AND sequence = ?",
                (session_id, sequence),
            ).rowcount
            if deleted:
                delete_orphan_blobs(conn)
        return deleted > 0

    def query(self, filters: Mapping[str, Any]) -> Records:
        """Artifacts (without content) matching every given filter, oldest first.

        Filters: ``session_id``, ``type`` (or ``artifact_type``), ``name``, ``name_pattern``
        (glob, e.g. ``"report-*"``), ``tags`` (all present in ``metadata.tags``),
        ``created_after`` / ``created_before`` (epoch seconds), ``min_size`` / ``max_size``
        (bytes), ``limit``.
        """
        unknown = sorted(set(filters) - set(_QUERY_KEYS))
        if unknown:
            raise ValidationError(
                f"artifact query: unknown filter '{unknown[0]}' (known: {', '.join(_QUERY_KEYS)})"
            )
        where: list[str] = []
        params: list[Any] = []
        simple = {
            "session_id": "session_id = ?",
            "type": "type = ?",
            "artifact_type": "type = ?",
            "name": "name = ?",
            "name_pattern": "name GLOB ?",
            "created_after": "created_at > ?",
            "created_before": "created_at < ?",
            "min_size": "size >= ?",
            "max_size": "size <= ?",
        }
        for key, clause in simple.items():
            if filters.get(key) is not None:
                where.append(clause)
                params.append(filters[key])
        tags = filters.get("tags")
        if tags:
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise ValidationError("artifact query: 'tags' must be a list of strings")
            marks = ", ".join("?" * len(tags))
            where.append(
                "(SELECT COUNT(DISTINCT value) FROM json_each(metadata, '$.tags') "
                f"WHERE value IN ({marks})) = ?"
            )
            params.extend(tags)
            params.append(len(set(tags)))
        sql = f"SELECT {_COLUMNS} FROM artifacts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, session_id, sequence"
        if filters.get("limit") is not None:
            sql += " LIMIT ?"
            params.append(check_limit(filters["limit"]))
        return [_record(row) for row in self._store.fetch_all(sql, params)]

    def _check_size(self, name: str, size: int) -> None:
        if size > self.max_bytes:
            raise ValidationError(
                f"artifact '{name}' is {_mib(size)}; the limit is {_mib(self.max_bytes)}"
            )

    def _pack(self, data: bytes) -> tuple[bytes, bool]:
        if len(data) < self.compress_threshold:
            return data, False
        packed = zlib.compress(data, 6)
        if len(packed) < len(data):
            return packed, True
        return data, False


def delete_orphan_blobs(conn: sqlite3.Connection) -> None:
    """Remove content no artifact refers to any more (inside the caller's transaction)."""
    conn.execute(
        "DELETE FROM blobs WHERE NOT EXISTS "
        "(SELECT 1 FROM artifacts a WHERE a.content_hash = blobs.hash)"
    )


def _check_label(value: Any, field: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"artifact {field} must be a non-empty string, got {value!r}")


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _record(row: sqlite3.Row) -> Record:
    return {
        "content_hash": row["content_hash"],
        "session_id": row["session_id"],
        "sequence": row["sequence"],
        "type": row["type"],
        "name": row["name"],
        "size": row["size"],
        "metadata": values.decode(row["metadata"]),
        "created_at": row["created_at"],
    }
