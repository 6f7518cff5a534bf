"""The SQLite store behind State, sessions, artifacts, conversations, runs, checkpoints and audit.

One ``sqlite3`` connection per ``Store``, shared by every thread of the process under a lock
(SQLite serialises writers anyway, and every call here takes well under a millisecond). The file
is in WAL mode with ``synchronous=NORMAL``: a commit survives the process being killed at any
moment; a power loss may drop the last commits but never corrupts the file. Several processes may
open the same file; writers wait up to ``busy_timeout`` for each other.

Calls are synchronous on purpose (an ``asyncio.to_thread`` hop costs more than the query). An
async caller that expects contention or moves large artifacts can wrap any method in
``asyncio.to_thread``: the store is thread-safe.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from llmspell.core.config import Config, user_data_dir
from llmspell.core.errors import StateError, ValidationError
from llmspell.state.migrations import LATEST_VERSION, MIGRATIONS
from llmspell_utils.fs import normalize_path

BUSY_TIMEOUT_SECONDS = 5.0
DEFAULT_FILE_NAME = "llmspell.db"

Record = dict[str, Any]
"""A row as plain data (what every store returns)."""
Records = list[Record]


class Store:
    """An open llmspell database: a file (``path``) or, when ``path`` is None, memory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    @property
    def is_memory(self) -> bool:
        return self.path is None

    @property
    def location(self) -> str:
        """The file path, or ``:memory:``; used in messages."""
        return ":memory:" if self.path is None else str(self.path)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.location,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            if self.path is not None:
                _enable_wal(conn)
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StateError(f"cannot open database {self.location}: {exc}") from None
        return conn

    def _migrate(self) -> None:
        current = self._read_version()
        if current == LATEST_VERSION:
            return
        _refuse_newer(current)
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
            current = int(row[0])
            _refuse_newer(current)
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (version, time.time()),
                )

    def _read_version(self) -> int:
        try:
            row = self.fetch_one(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            )
            if row is None:
                return 0
            found = self.fetch_one("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        except StateError as exc:
            raise StateError(f"{self.location} is not a usable llmspell database: {exc}") from None
        return int(found[0]) if found is not None else 0

    @property
    def schema_version(self) -> int:
        return self._read_version()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write lock for the block (``BEGIN IMMEDIATE``); commit at its end, roll back
        on any exception. A nested call joins the outer transaction."""
        with self._lock:
            conn = self._conn
            if conn.in_transaction:
                yield conn
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StateError(f"database {self.location}: {exc}") from None
            try:
                yield conn
            except sqlite3.Error as exc:
                conn.rollback()
                raise StateError(f"database {self.location}: {exc}") from exc
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.rollback()
                raise StateError(f"database {self.location}: commit failed: {exc}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; return the number of rows changed."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).rowcount
            except sqlite3.Error as exc:
                raise StateError(f"database {self.location}: {exc}") from None

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            try:
                row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise StateError(f"database {self.location}: {exc}") from None
        return row

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StateError(f"database {self.location}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(
    config: Config | None = None,
    *,
    path: str | Path | None = None,
    memory: bool = False,
) -> Store:
    """Open (creating and migrating as needed) the llmspell database.

    Precedence: ``memory=True``; an explicit ``path`` (``":memory:"`` means memory); the
    config's ``[storage]`` section (``backend = "memory"`` or ``path``); else
    ``<user data folder>/llmspell.db``.
    """
    if memory or (isinstance(path, str) and path == ":memory:"):
        return Store(None)
    if path is None and config is not None:
        if config.storage.backend == "memory":
            return Store(None)
        path = config.storage.path
    target = normalize_path(path) if path is not None else user_data_dir() / DEFAULT_FILE_NAME
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create the folder of database {target}: {exc}") from None
    return Store(target)


def check_limit(limit: Any) -> int:
    """A query's row limit: a non-negative integer."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
    return limit


def _refuse_newer(version: int) -> None:
    if version > LATEST_VERSION:
        raise StateError(
            f"database schema version {version} is newer than this llmspell supports "
            f"({LATEST_VERSION}); upgrade llmspell"
        )


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL; several processes opening a new file at once may briefly hold locks that
    the busy handler does not cover for this pragma, so retry until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
