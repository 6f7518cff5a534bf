from __future__ import annotations

from pathlib import Path

import pytest

from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.state.artifacts import ArtifactStore
from llmspell.state.conversations import ConversationStore
from llmspell.state.sessions import SessionStore
from llmspell.state.state import StateStore
from llmspell.state.store import Store


def test_create_and_get(store: Store) -> None:
    sessions = SessionStore(store)
    created = sessions.create(
        "research", description="papers", tags=["ml", "ml", "draft"], metadata={"k": 1}
    )
    assert created["id"].startswith("session_")
    assert created["status"] == "active"
    assert created["tags"] == ["draft", "ml"]
    assert created["metadata"] == {"k": 1}
    assert created["artifact_count"] == 0
    assert sessions.get(created["id"]) == created
    assert sessions.get("session_missing") is None


def test_name_defaults_to_the_id(store: Store) -> None:
    created = SessionStore(store).create()
    assert created["name"] == created["id"]


def test_find_resolve_and_get_or_create_by_name(store: Store) -> None:
    sessions = SessionStore(store)
    first = sessions.get_or_create("chat")
    again = sessions.get_or_create("chat")
    assert again["id"] == first["id"]
    assert sessions.resolve("chat") == sessions.resolve(first["id"])
    assert sessions.find("nobody") is None


def test_list_filters_by_all_tags_status_and_limit(store: Store) -> None:
    sessions = SessionStore(store)
    a = sessions.create("a", tags=["x", "y"])
    b = sessions.create("b", tags=["x"])
    c = sessions.create("c", tags=["y"])
    sessions.suspend(c["id"])
    assert [s["name"] for s in sessions.list()] == ["c", "b", "a"]
    assert [s["name"] for s in sessions.list(tags=["x"])] == ["b", "a"]
    assert [s["id"] for s in sessions.list(tags=["x", "y"])] == [a["id"]]
    assert [s["id"] for s in sessions.list(status="suspended")] == [c["id"]]
    assert [s["id"] for s in sessions.list(limit=1)] == [c["id"]]
    assert b in sessions.list(tags=["x"])
    with pytest.raises(ValidationError, match="session status 'gone' is unknown"):
        sessions.list(status="gone")
    with pytest.raises(ValidationError, match="limit must be a non-negative integer"):
        sessions.list(limit=-1)


def test_status_transitions(store: Store) -> None:
    sessions = SessionStore(store)
    sid = sessions.create("s")["id"]
    assert sessions.suspend(sid)["status"] == "suspended"
    with pytest.raises(StateError, match=r"cannot suspend session .* it is suspended"):
        sessions.suspend(sid)
    assert sessions.resume(sid)["status"] == "active"
    with pytest.raises(StateError, match=r"cannot resume session .* it is active"):
        sessions.resume(sid)
    assert sessions.complete(sid)["status"] == "completed"
    with pytest.raises(StateError, match="cannot complete session"):
        sessions.complete(sid)
    with pytest.raises(NotFoundError, match="session 'nope' not found"):
        sessions.suspend("nope")


def test_invalid_fields_are_refused(store: Store) -> None:
    sessions = SessionStore(store)
    with pytest.raises(ValidationError, match="session name"):
        sessions.create("")
    with pytest.raises(ValidationError, match="tags must be a list"):
        sessions.create("s", tags="abc")
    with pytest.raises(ValidationError, match="session metadata"):
        sessions.create("s", metadata={"x": {1, 2}})


def test_delete_removes_artifacts_conversations_state_and_content(
    store: Store, tmp_path: Path
) -> None:
    sessions = SessionStore(store)
    artifacts = ArtifactStore(store)
    conversations = ConversationStore(store)
    state = StateStore(store)
    keep = sessions.create("keep")["id"]
    gone = sessions.create("gone")["id"]
    artifacts.store(gone, "text", "only-here", "private")
    artifacts.store(gone, "text", "shared", "common")
    artifacts.store(keep, "text", "shared", "common")
    conversations.append(gone, "bot", [{"role": "user", "content": "hi"}])
    state.save(f"session:{gone}", "k", 1)
    state.save(f"session:{keep}", "k", 2)

    assert sessions.delete(gone) is True
    assert sessions.delete(gone) is False
    assert sessions.get(gone) is None
    assert artifacts.list(gone) == []
    assert conversations.load(gone, "bot") == []
    assert state.load(f"session:{gone}", "k") is None
    assert state.load(f"session:{keep}", "k") == 2
    assert artifacts.get(keep, 1)["content"] == "common"
    assert store.fetch_one("SELECT COUNT(*) FROM blobs")[0] == 1
