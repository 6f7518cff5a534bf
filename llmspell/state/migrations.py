"""Numbered schema migrations of the llmspell database.

Each entry is ``(version, statements)``. A migration runs once, inside one transaction, and its
version is recorded in ``schema_version``. Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, tuple[str, ...]]] = [
    (
        1,
        (
            """
            CREATE TABLE state (
                scope TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                updated_at REAL NOT NULL,
                PRIMARY KEY (scope, key)
            ) WITHOUT ROWID
            """,
        ),
    ),
    (
        2,
        (
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'completed')),
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                metadata TEXT NOT NULL DEFAULT '{}',
                artifact_seq INTEGER NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX sessions_by_name ON sessions (name, updated_at)",
            """
            CREATE TABLE session_tags (
                session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                tag TEXT NOT NULL,
                PRIMARY KEY (session_id, tag)
            ) WITHOUT ROWID
            """,
            "CREATE INDEX session_tags_by_tag ON session_tags (tag)",
            """
            CREATE TABLE blobs (
                hash TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                compressed INTEGER NOT NULL,
                data BLOB NOT NULL
            )
            """,
            """
            CREATE TABLE artifacts (
                session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                sequence INTEGER NOT NULL,
                type TEXT NOT NULL,
                name TEXT NOT NULL,
                content_hash TEXT NOT NULL REFERENCES blobs (hash),
                size INTEGER NOT NULL,
                is_text INTEGER NOT NULL,
                metadata TEXT NOT NULL DEFAULT '{}',
                created_at REAL NOT NULL,
                PRIMARY KEY (session_id, sequence)
            )
            """,
            "CREATE INDEX artifacts_by_hash ON artifacts (content_hash)",
        ),
    ),
    (
        3,
        (
            """
            CREATE TABLE conversation_entries (
                session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                agent_name TEXT NOT NULL,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('message', 'summary')),
                replaces_until INTEGER,
                message TEXT NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (session_id, agent_name, seq)
            )
            """,
        ),
    ),
    (
        4,
        (
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('script', 'exec', 'workflow', 'embedded')),
                script TEXT,
                args_hash TEXT,
                status TEXT NOT NULL CHECK (status IN (
                    'pending', 'running', 'completed', 'failed', 'interrupted', 'cancelled')),
                created_at REAL NOT NULL,
                started_at REAL,
                ended_at REAL,
                error TEXT,
                error_kind TEXT,
                input_tokens INTEGER NOT NULL DEFAULT 0,
                output_tokens INTEGER NOT NULL DEFAULT 0,
                cost_usd REAL NOT NULL DEFAULT 0,
                pid INTEGER,
                cancel_requested INTEGER NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX runs_by_status ON runs (status, created_at)",
            "CREATE INDEX runs_by_time ON runs (created_at)",
            """
            CREATE TABLE run_workflows (
                run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
                workflow_hash TEXT NOT NULL,
                definition TEXT NOT NULL,
                input TEXT NOT NULL,
                created_at REAL NOT NULL
            )
            """,
            """
            CREATE TABLE checkpoints (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                sequence INTEGER NOT NULL,
                schema_version INTEGER NOT NULL,
                workflow_hash TEXT NOT NULL,
                payload TEXT NOT NULL,
                checksum TEXT NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (run_id, sequence)
            )
            """,
        ),
    ),
    (
        5,
        (
            """
            CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY,
                time REAL NOT NULL,
                run_id TEXT,
                session_id TEXT,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                arguments TEXT NOT NULL,
                outcome TEXT NOT NULL,
                duration_ms REAL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_by_run ON audit_log (run_id, seq)",
            """
            CREATE TABLE audit_head (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                seq INTEGER NOT NULL,
                hash TEXT NOT NULL
            )
            """,
        ),
    ),
    (
        6,
        (
            """
            CREATE TABLE response_cache (
                key TEXT PRIMARY KEY,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                response TEXT NOT NULL,
                events TEXT,
                created_at REAL NOT NULL,
                expires_at REAL
            )
            """,
            "CREATE INDEX response_cache_by_expiry ON response_cache (expires_at)",
        ),
    ),
    (
        7,
        (
            # Checkpoints become incremental: one small record per completed step, all of them
            # kept and replayed in order. The table is rebuilt without a rowid (one b-tree
            # write per record). Of the whole-progress checkpoints (format 1) written before,
            # only the newest of each run is needed: it stays as that run's first record.
            """
            CREATE TABLE checkpoint_records (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                sequence INTEGER NOT NULL,
                schema_version INTEGER NOT NULL,
                workflow_hash TEXT NOT NULL,
                payload TEXT NOT NULL,
                checksum TEXT NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (run_id, sequence)
            ) WITHOUT ROWID
            """,
            """
            INSERT INTO checkpoint_records (run_id, sequence, schema_version, workflow_hash,
                payload, checksum, created_at)
            SELECT run_id, sequence, schema_version, workflow_hash, payload, checksum, created_at
            FROM checkpoints AS old
            WHERE sequence = (SELECT MAX(sequence) FROM checkpoints WHERE run_id = old.run_id)
            """,
            "DROP TABLE checkpoints",
            "ALTER TABLE checkpoint_records RENAME TO checkpoints",
        ),
    ),
    (
        8,
        (
            # The session a run ran in (NULL: none), for the session's token and cost totals.
            # No foreign key: a run record outlives a deleted session, as audit records do.
            "ALTER TABLE runs ADD COLUMN session_id TEXT",
            "CREATE INDEX runs_by_session ON runs (session_id)",
        ),
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]
