from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.state.artifacts import ArtifactStore
from llmspell.state.sessions import SessionStore
from llmspell.state.store import Store


@pytest.fixture
def session_id(store: Store) -> str:
    return str(SessionStore(store).create("work")["id"])


def blob_count(store: Store) -> int:
    return int(store.fetch_one("SELECT COUNT(*) FROM blobs")[0])


def test_store_returns_a_content_addressed_id(store: Store, session_id: str) -> None:
    ref = ArtifactStore(store).store(session_id, "text", "notes.md", "# hi", {"author": "me"})
    assert ref == {
        "content_hash": hashlib.sha256(b"# hi").hexdigest(),
        "session_id": session_id,
        "sequence": 1,
    }
    got = ArtifactStore(store).get(session_id, 1)
    assert got is not None
    assert got["content"] == "# hi"
    assert got["name"] == "notes.md"
    assert got["type"] == "text"
    assert got["metadata"] == {"author": "me"}
    assert got["size"] == 4


def test_bytes_come_back_as_bytes_and_text_as_text(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store)
    artifacts.store(session_id, "image", "a.bin", b"\x00\xff")
    artifacts.store(session_id, "text", "b.txt", "héllo")
    assert artifacts.get(session_id, 1)["content"] == b"\x00\xff"  # type: ignore[index]
    assert artifacts.get(session_id, 2)["content"] == "héllo"  # type: ignore[index]
    assert artifacts.get(session_id, 3) is None


def test_identical_content_is_stored_once(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store)
    first = artifacts.store(session_id, "text", "a", "same content")
    second = artifacts.store(session_id, "text", "b", b"same content")
    assert first["content_hash"] == second["content_hash"]
    assert (first["sequence"], second["sequence"]) == (1, 2)
    assert blob_count(store) == 1
    assert artifacts.delete(session_id, 1) is True
    assert blob_count(store) == 1
    assert artifacts.get(session_id, 2)["content"] == b"same content"  # type: ignore[index]
    assert artifacts.delete(session_id, 2) is True
    assert artifacts.delete(session_id, 2) is False
    assert blob_count(store) == 0


def test_sequence_numbers_are_never_reused(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store)
    artifacts.store(session_id, "text", "a", "1")
    artifacts.delete(session_id, 1)
    assert artifacts.store(session_id, "text", "b", "2")["sequence"] == 2


def test_size_limit(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store, max_bytes=1024)
    artifacts.store(session_id, "bin", "ok", b"x" * 1024)
    with pytest.raises(ValidationError, match=r"artifact 'big' is 0.0 MiB; the limit is 0.0 MiB"):
        artifacts.store(session_id, "bin", "big", b"x" * 1025)


def test_large_compressible_content_is_compressed(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store, compress_threshold=1000)
    text = "the same line again\n" * 500
    noise = os.urandom(5000)
    artifacts.store(session_id, "text", "log", text)
    artifacts.store(session_id, "bin", "noise", noise)
    artifacts.store(session_id, "text", "small", "short")
    rows = {
        row["size"]: (row["compressed"], row["stored"])
        for row in store.fetch_all("SELECT size, compressed, length(data) AS stored FROM blobs")
    }
    assert rows[len(text)][0] == 1 and rows[len(text)][1] < len(text) // 10
    assert rows[5000] == (0, 5000)
    assert rows[5] == (0, 5)
    assert artifacts.get(session_id, 1)["content"] == text  # type: ignore[index]
    assert artifacts.get(session_id, 2)["content"] == noise  # type: ignore[index]


def test_corrupted_content_is_detected(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store)
    artifacts.store(session_id, "text", "a", "original")
    store.execute("UPDATE blobs SET data = ?", (b"tampered",))
    with pytest.raises(StateError, match=r"artifact 1 of session .* is corrupted"):
        artifacts.get(session_id, 1)


def test_store_file(store: Store, session_id: str, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"a": 1}')
    ref = ArtifactStore(store).store_file(session_id, path, metadata={"tags": ["r"]})
    got = ArtifactStore(store).get(session_id, ref["sequence"])
    assert got is not None
    assert got["name"] == "report.json"
    assert got["type"] == "file"
    assert got["content"] == b'{"a": 1}'
    assert got["metadata"] == {
        "tags": ["r"],
        "source_path": str(path),
        "mime_type": "application/json",
    }
    with pytest.raises(ValidationError, match="artifact file"):
        ArtifactStore(store).store_file(session_id, tmp_path / "missing.txt")


def test_unknown_session_and_bad_arguments(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store)
    with pytest.raises(NotFoundError, match="session 'nope' not found"):
        artifacts.store("nope", "text", "a", "x")
    with pytest.raises(ValidationError, match="content must be a string or bytes, got int"):
        artifacts.store(session_id, "text", "a", 5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="artifact name"):
        artifacts.store(session_id, "text", "", "x")
    assert blob_count(store) == 0


def test_query(store: Store, session_id: str) -> None:
    artifacts = ArtifactStore(store)
    other = SessionStore(store).create("other")["id"]
    artifacts.store(session_id, "report", "report-1", "a" * 10, {"tags": ["q1", "final"]})
    artifacts.store(session_id, "report", "report-2", "b" * 100, {"tags": ["q2"]})
    artifacts.store(session_id, "image", "chart", b"c" * 1000)
    artifacts.store(other, "report", "report-3", "d", {"tags": ["q1"]})

    def names(**filters: object) -> list[str]:
        return [a["name"] for a in artifacts.query(filters)]

    assert names(session_id=session_id) == ["report-1", "report-2", "chart"]
    assert names(type="report") == ["report-1", "report-2", "report-3"]
    assert names(artifact_type="image") == ["chart"]
    assert names(name_pattern="report-*", session_id=session_id) == ["report-1", "report-2"]
    assert names(tags=["q1"]) == ["report-1", "report-3"]
    assert names(tags=["q1", "final"]) == ["report-1"]
    assert names(min_size=50) == ["report-2", "chart"]
    assert names(max_size=10) == ["report-1", "report-3"]
    assert names(limit=2) == ["report-1", "report-2"]
    assert names(created_after=0, created_before=1e12, name="chart") == ["chart"]
    assert [a["name"] for a in artifacts.list(other)] == ["report-3"]
    assert "content" not in artifacts.list(other)[0]
    with pytest.raises(ValidationError, match="unknown filter 'colour'"):
        artifacts.query({"colour": "red"})
