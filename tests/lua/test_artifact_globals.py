"""The ``Artifact`` global: store, read, dedupe, binary content, files under permissions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from state_testkit import file_host, ok, opened

from llmspell import Host
from llmspell.state.artifacts import ArtifactStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "artifacts.db"


@pytest.fixture
def host(db: Path) -> Host:
    return file_host(db)


def test_store_get_list_delete(host: Host) -> None:
    script = """
    local id = Session.create{name = "report"}
    local ref = Artifact.store(id, "text", "summary.md", "# Q3", {tags = {"draft"}, pages = 2})
    local second = Artifact.store(id, "json", "data.json", "{}")
    local art = Artifact.get(id, ref.sequence)
    local names = {}
    for i, a in ipairs(Artifact.list(id)) do names[i] = a.name end
    local deleted = Artifact.delete(id, second.sequence)
    return {
      ref = ref, second = second.sequence, content = art.content, metadata = art.metadata,
      size = art.size, type = art.type, names = names, deleted = deleted,
      after = #Artifact.list(id), missing = Artifact.get(id, 99) == nil,
      deleted_again = Artifact.delete(id, second.sequence),
    }
    """
    value = ok(host.run(script))
    ref = value["ref"]
    assert set(ref) == {"content_hash", "session_id", "sequence"}
    assert ref["sequence"] == 1 and value["second"] == 2
    assert ref["content_hash"] == hashlib.sha256(b"# Q3").hexdigest()
    assert value["content"] == "# Q3" and value["size"] == 4 and value["type"] == "text"
    assert value["metadata"] == {"tags": ["draft"], "pages": 2}
    assert value["names"] == ["summary.md", "data.json"]
    assert value["deleted"] is True and value["after"] == 1 and value["missing"] is True
    assert value["deleted_again"] is False


def test_identical_content_is_stored_once(host: Host, db: Path) -> None:
    script = """
    local id = Session.create{}
    local a = Artifact.store(id, "text", "a.txt", "same bytes")
    local b = Artifact.store(id, "text", "b.txt", "same bytes")
    return {a.content_hash == b.content_hash, a.sequence, b.sequence}
    """
    assert ok(host.run(script)) == [True, 1, 2]
    with opened(db) as store:
        assert store.fetch_one("SELECT COUNT(*) FROM blobs")[0] == 1  # type: ignore[index]
        assert store.fetch_one("SELECT COUNT(*) FROM artifacts")[0] == 2  # type: ignore[index]


def test_binary_content_round_trips_as_bytes(host: Host, db: Path) -> None:
    script = """
    local id = Session.create{}
    local data = "\\0\\255\\254PNG\\r\\n" .. string.rep("\\128", 100)
    local ref = Artifact.store(id, "image", "x.png", data)
    local back = Artifact.get(id, ref.sequence).content
    return {back == data, #back, id, ref.content_hash}
    """
    same, size, session_id, digest = ok(host.run(script))
    expected = b"\x00\xff\xfePNG\r\n" + b"\x80" * 100
    assert same is True and size == len(expected)
    assert digest == hashlib.sha256(expected).hexdigest()
    with opened(db) as store:
        record = ArtifactStore(store).get(session_id, 1)
    assert record is not None and record["content"] == expected


def test_text_content_is_stored_as_text(host: Host, db: Path) -> None:
    session_id = ok(
        host.run("local id = Session.create{} Artifact.store(id, 't', 'n', 'héllo') return id")
    )
    with opened(db) as store:
        record = ArtifactStore(store).get(session_id, 1)
    assert record is not None and record["content"] == "héllo"


def test_query(host: Host) -> None:
    script = """
    local id = Session.create{}
    Artifact.store(id, "text", "report-1", "a", {tags = {"draft", "q3"}})
    Artifact.store(id, "text", "report-2", "bb", {tags = {"final"}})
    Artifact.store(id, "json", "data", "ccc")
    local function names(list)
      local out = {}
      for i, a in ipairs(list) do out[i] = a.name end
      return out
    end
    return {
      reports = names(Artifact.query{session_id = id, name_pattern = "report-*"}),
      drafts = names(Artifact.query{session_id = id, tags = {"draft"}}),
      json = names(Artifact.query{session_id = id, type = "json"}),
      big = names(Artifact.query{session_id = id, min_size = 2}),
      limited = #Artifact.query{session_id = id, limit = 1},
    }
    """
    assert ok(host.run(script)) == {
        "reports": ["report-1", "report-2"],
        "drafts": ["report-1"],
        "json": ["data"],
        "big": ["report-2", "data"],
        "limited": 1,
    }


def test_nil_session_means_the_current_one(host: Host) -> None:
    script = """
    local ref = Artifact.store(nil, "text", "note", "hi")
    return {ref.session_id == Session.get_current(), #Artifact.list(), Artifact.get(nil, 1).content}
    """
    assert ok(host.run(script, session="notes")) == [True, 1, "hi"]
    result = host.run("local ok, err = pcall(Artifact.store, nil, 't', 'n', 'x') return err")
    assert ok(result).startswith("NotFound: Artifact.store: no session id given")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("Artifact.store('nope', 't', 'n', 'x')", "NotFound: Artifact.store: session 'nope'"),
        ("Artifact.store(id, 't', 'n', {})", "ValidationError: Artifact.store: artifact content"),
        ("Artifact.store(id, '', 'n', 'x')", "ValidationError: Artifact.store: artifact type"),
        (
            "Artifact.store(id, 't', 'n', 'x', 5)",
            "ValidationError: Artifact.store: artifact metadata",
        ),
        ("Artifact.get(id, 'one')", "ValidationError: Artifact.get: artifact sequence"),
        (
            "Artifact.query{colour = 'red'}",
            "ValidationError: Artifact.query: artifact query: unknown filter 'colour'",
        ),
    ],
)
def test_errors(host: Host, call: str, message: str) -> None:
    script = (
        f"local id = Session.create{{}}\nlocal ok, err = pcall(function() {call} end)\nreturn err"
    )
    assert message in ok(host.run(script))


def test_store_file_needs_read_permission(tmp_path: Path, db: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "notes.txt").write_bytes(b"file content\n")
    (tmp_path / "secret.txt").write_text("no")
    script = f"""
    local id = Session.create{{}}
    local ref = Artifact.store_file(id, {str(folder / "notes.txt")!r}, "note", {{tags = {{"x"}}}})
    local art = Artifact.get(id, ref.sequence)
    local ok, err = pcall(Artifact.storeFile, id, {str(tmp_path / "secret.txt")!r})
    return {{art.name, art.type, art.content, art.metadata.mime_type, art.metadata.tags, err}}
    """
    allowed = file_host(db, security={"file_read_roots": [str(folder)]})
    name, kind, content, mime, tags, error = ok(allowed.run(script))
    assert (name, kind, content, mime, tags) == (
        "notes.txt",
        "note",
        "file content\n",
        "text/plain",
        ["x"],
    )
    assert error.startswith("PermissionDenied: read ")
    assert "is outside the read roots" in error

    denied = file_host(db).run(
        f"Artifact.store_file(Session.create{{}}, {str(folder / 'notes.txt')!r})"
    )
    assert denied.status == "error" and denied.error_kind == "sandbox_violation"
    assert "no read roots are configured" in (denied.error or "")
