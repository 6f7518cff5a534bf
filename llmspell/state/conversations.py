"""Conversations: an agent's message history inside a session, kept across runs.

Entries are numbered per (session, agent). A *summary* entry stands for every entry up to its
``replaces_until`` sequence number, so context management can shrink a long history without
losing the record: ``load`` returns the latest summary followed by the messages after what it
replaces, while ``entries`` returns the whole chain.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import Any

from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.state import values
from llmspell.state.store import Store

Message = dict[str, Any]

_WHERE = "session_id = ? AND agent_name = ?"


class ConversationStore:
    """Append, load and clear conversations by (session id, agent name)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def append(
        self, session_id: str, agent_name: str, messages: Iterable[Mapping[str, Any]]
    ) -> list[int]:
        """Append messages (JSON-shaped tables such as ``{role, content}``); return their
        sequence numbers."""
        _check_agent(agent_name)
        encoded = [_encode(message, agent_name) for message in messages]
        with self._store.transaction() as conn:
            first = self._next_seq(conn, session_id, agent_name)
            now = time.time()
            conn.executemany(
                "INSERT INTO conversation_entries (session_id, agent_name, seq, kind, "
                "replaces_until, message, created_at) VALUES (?, ?, ?, 'message', NULL, ?, ?)",
                [(session_id, agent_name, first + i, text, now) for i, text in enumerate(encoded)],
            )
        return list(range(first, first + len(encoded)))

    def append_summary(
        self,
        session_id: str,
        agent_name: str,
        summary: Mapping[str, Any],
        replaces_until: int,
    ) -> int:
        """Append a summary message that replaces every entry up to ``replaces_until``
        (earlier summaries included); return its sequence number."""
        _check_agent(agent_name)
        text = _encode(summary, agent_name)
        with self._store.transaction() as conn:
            seq = self._next_seq(conn, session_id, agent_name)
            if (
                isinstance(replaces_until, bool)
                or not isinstance(replaces_until, int)
                or not 1 <= replaces_until < seq
            ):
                raise ValidationError(
                    f"conversation of agent '{agent_name}': replaces_until must be an existing "
                    f"entry number (1 to {seq - 1}), got {replaces_until!r}"
                )
            conn.execute(
                "INSERT INTO conversation_entries (session_id, agent_name, seq, kind, "
                "replaces_until, message, created_at) VALUES (?, ?, ?, 'summary', ?, ?, ?)",
                (session_id, agent_name, seq, replaces_until, text, time.time()),
            )
        return seq

    def load(self, session_id: str, agent_name: str) -> list[Message]:
        """The history to give the model: the latest summary, then the messages after it."""
        summary = self._store.fetch_one(
            f"SELECT replaces_until, message FROM conversation_entries WHERE {_WHERE} "
            "AND kind = 'summary' ORDER BY seq DESC LIMIT 1",
            (session_id, agent_name),
        )
        after = 0 if summary is None else int(summary[0])
        rows = self._store.fetch_all(
            f"SELECT message FROM conversation_entries WHERE {_WHERE} "
            "AND kind = 'message' AND seq > ? ORDER BY seq",
            (session_id, agent_name, after),
        )
        head = [] if summary is None else [values.decode(summary[1])]
        return head + [values.decode(row[0]) for row in rows]

    def entries(self, session_id: str, agent_name: str) -> list[dict[str, Any]]:
        """Every entry: ``{seq, kind, replaces_until, message, created_at}``, in order."""
        rows = self._store.fetch_all(
            "SELECT seq, kind, replaces_until, message, created_at FROM conversation_entries "
            f"WHERE {_WHERE} ORDER BY seq",
            (session_id, agent_name),
        )
        return [
            {
                "seq": row["seq"],
                "kind": row["kind"],
                "replaces_until": row["replaces_until"],
                "message": values.decode(row["message"]),
                "created_at": row["created_at"],
            }
            for row in rows
        ]

    def clear(self, session_id: str, agent_name: str) -> int:
        """Forget the conversation; return how many entries were removed."""
        return self._store.execute(
            f"DELETE FROM conversation_entries WHERE {_WHERE}", (session_id, agent_name)
        )

    def agents(self, session_id: str) -> list[str]:
        """Names of the agents with a conversation in the session."""
        rows = self._store.fetch_all(
            "SELECT DISTINCT agent_name FROM conversation_entries WHERE session_id = ? "
            "ORDER BY agent_name",
            (session_id,),
        )
        return [row[0] for row in rows]

    @staticmethod
    def _next_seq(conn: sqlite3.Connection, session_id: str, agent_name: str) -> int:
        """The next entry number; also marks the session as just used."""
        if not conn.execute(
            "UPDATE sessions SET updated_at = ? WHERE id = ?", (time.time(), session_id)
        ).rowcount:
            raise NotFoundError(f"session '{session_id}' not found")
        row = conn.execute(
            f"SELECT COALESCE(MAX(seq), 0) FROM conversation_entries WHERE {_WHERE}",
            (session_id, agent_name),
        ).fetchone()
        return int(row[0]) + 1


def _check_agent(agent_name: Any) -> None:
    if not isinstance(agent_name, str) or not agent_name:
        raise ValidationError(f"agent name must be a non-empty string, got {agent_name!r}")


def _encode(message: Any, agent_name: str) -> str:
    if message is None:
        raise ValidationError(f"conversation message of agent '{agent_name}' must be a table")
    return values.encode_table(message, f"conversation message of agent '{agent_name}'")
