from __future__ import annotations

from pathlib import Path

import pytest

from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.state.conversations import ConversationStore
from llmspell.state.sessions import SessionStore
from llmspell.state.store import Store, open_store


def msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def test_a_later_run_continues_the_conversation(db_path: Path) -> None:
    with open_store(path=db_path) as store:
        sid = SessionStore(store).get_or_create("chat")["id"]
        seqs = ConversationStore(store).append(
            sid, "helper", [msg("user", "hi"), msg("assistant", "hello")]
        )
        assert seqs == [1, 2]
    with open_store(path=db_path) as store:
        sid = SessionStore(store).get_or_create("chat")["id"]
        conversations = ConversationStore(store)
        assert conversations.append(sid, "helper", [msg("user", "again")]) == [3]
        assert conversations.load(sid, "helper") == [
            msg("user", "hi"),
            msg("assistant", "hello"),
            msg("user", "again"),
        ]


def test_summary_chain(store: Store) -> None:
    sid = SessionStore(store).create("s")["id"]
    conv = ConversationStore(store)
    conv.append(sid, "a", [msg("user", f"m{i}") for i in range(1, 5)])  # 1..4
    assert conv.append_summary(sid, "a", msg("system", "summary of 1-3"), 3) == 5
    assert conv.load(sid, "a") == [msg("system", "summary of 1-3"), msg("user", "m4")]
    conv.append(sid, "a", [msg("user", "m6")])  # 6
    assert conv.append_summary(sid, "a", msg("system", "summary of 1-6"), 6) == 7
    conv.append(sid, "a", [msg("user", "m8")])
    assert conv.load(sid, "a") == [msg("system", "summary of 1-6"), msg("user", "m8")]
    entries = conv.entries(sid, "a")
    assert [(e["seq"], e["kind"], e["replaces_until"]) for e in entries][4:] == [
        (5, "summary", 3),
        (6, "message", None),
        (7, "summary", 6),
        (8, "message", None),
    ]


def test_agents_are_separate_and_clear_forgets(store: Store) -> None:
    sid = SessionStore(store).create("s")["id"]
    conv = ConversationStore(store)
    conv.append(sid, "a", [msg("user", "for a")])
    conv.append(sid, "b", [msg("user", "for b")])
    assert conv.agents(sid) == ["a", "b"]
    assert conv.clear(sid, "a") == 1
    assert conv.load(sid, "a") == []
    assert conv.load(sid, "b") == [msg("user", "for b")]


def test_invalid_input(store: Store) -> None:
    sid = SessionStore(store).create("s")["id"]
    conv = ConversationStore(store)
    with pytest.raises(NotFoundError, match="session 'missing' not found"):
        conv.append("missing", "a", [msg("user", "x")])
    with pytest.raises(ValidationError, match="message of agent 'a' must be a table, got str"):
        conv.append(sid, "a", ["just text"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="agent name"):
        conv.append(sid, "", [msg("user", "x")])
    conv.append(sid, "a", [msg("user", "x")])
    with pytest.raises(ValidationError, match=r"replaces_until must be an existing entry number"):
        conv.append_summary(sid, "a", msg("system", "s"), 2)
    assert conv.entries(sid, "a")[0]["message"] == msg("user", "x")
