import os
import stat
from pathlib import Path
from typing import Any

import pytest

from llmspell_utils.fs import (
    PathEscapeError,
    atomic_write,
    is_within,
    normalize_path,
    resolve_within,
)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- atomic_write -----------------------------------------------------------------------------


def test_writes_text_and_bytes(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    atomic_write(str(target), b"\x00\x01binary")
    assert target.read_bytes() == b"\x00\x01binary"
    atomic_write(target, "é", encoding="latin-1")
    assert target.read_bytes() == b"\xe9"
    assert leftovers(tmp_path) == []


def test_mode_is_applied(tmp_path: Path) -> None:
    target = tmp_path / "secret.toml"
    atomic_write(target, "k = 1", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_replacing_keeps_existing_permissions(tmp_path: Path) -> None:
    target = tmp_path / "script.sh"
    target.write_text("old")
    target.chmod(0o751)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751


def test_new_file_gets_umask_default(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "f", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640


def test_failure_while_writing_leaves_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_text('{"old": true}')
    real_write = os.write
    calls = 0

    def half_then_fail(fd: int, data: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, '{"new": "a much longer replacement value"}')
    monkeypatch.undo()
    assert calls == 2
    assert target.read_text() == '{"old": true}'
    assert leftovers(tmp_path) == []


def test_failure_at_fsync_or_rename_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data.txt"
    target.write_text("old")

    def fail(*args: Any) -> None:
        raise OSError(5, "I/O error")

    for name in ("fsync", "replace"):
        with monkeypatch.context() as patch:
            patch.setattr(os, name, fail)
            with pytest.raises(OSError, match="I/O error"):
                atomic_write(target, "new")
        assert target.read_text() == "old"
        assert leftovers(tmp_path) == []


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "nope" / "f.txt", "x")


def test_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_text("old")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


# --- normalize_path ---------------------------------------------------------------------------


def test_normalize_expands_home_and_collapses_dots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    assert normalize_path("~/a/./b/../c") == Path("/home/someone/a/c")


def test_normalize_makes_relative_paths_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_path("x/../y") == tmp_path / "y"


def test_normalize_does_not_resolve_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert normalize_path(tmp_path / "link" / "f") == tmp_path / "link" / "f"


# --- resolve_within / is_within ---------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "root"
    (base / "sub").mkdir(parents=True)
    (base / "sub" / "file.txt").write_text("in")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("out")
    return base


def test_relative_path_is_taken_from_root(root: Path) -> None:
    assert resolve_within(root, "sub/file.txt") == root.resolve() / "sub" / "file.txt"
    assert resolve_within(root, "sub/../sub/new.txt") == root.resolve() / "sub" / "new.txt"
    assert resolve_within(root, ".") == root.resolve()


def test_absolute_path_inside_root_is_accepted(root: Path) -> None:
    assert resolve_within(root, root / "sub" / "file.txt") == root.resolve() / "sub/file.txt"


def test_not_yet_existing_leaf_is_accepted(root: Path) -> None:
    assert resolve_within(root, "new/deeper/x.txt") == root.resolve() / "new/deeper/x.txt"


@pytest.mark.parametrize("path", ["../outside/secret.txt", "sub/../../outside", ".."])
def test_dotdot_escape_is_refused(root: Path, path: str) -> None:
    with pytest.raises(PathEscapeError) as info:
        resolve_within(root, path)
    assert path in str(info.value)
    assert info.value.path == path


def test_absolute_path_outside_is_refused(root: Path) -> None:
    with pytest.raises(PathEscapeError, match=r"secret\.txt"):
        resolve_within(root, root.parent / "outside" / "secret.txt")
    with pytest.raises(PathEscapeError):
        resolve_within(root, "/etc/passwd")


def test_sibling_with_common_name_prefix_is_refused(root: Path) -> None:
    sibling = root.parent / "root2"
    sibling.mkdir()
    with pytest.raises(PathEscapeError):
        resolve_within(root, sibling / "x")


def test_symlinked_folder_escape_is_refused(root: Path) -> None:
    (root / "door").symlink_to(root.parent / "outside")
    with pytest.raises(PathEscapeError, match=r"door/secret\.txt"):
        resolve_within(root, "door/secret.txt")
    with pytest.raises(PathEscapeError):
        resolve_within(root, "door/not-yet-there.txt")


def test_symlinked_file_escape_is_refused(root: Path) -> None:
    (root / "innocent.txt").symlink_to(root.parent / "outside" / "secret.txt")
    with pytest.raises(PathEscapeError):
        resolve_within(root, "innocent.txt")


def test_dangling_symlink_pointing_outside_is_refused(root: Path) -> None:
    (root / "trap.txt").symlink_to(root.parent / "outside" / "created-later.txt")
    with pytest.raises(PathEscapeError):
        resolve_within(root, "trap.txt")


def test_symlink_inside_root_is_followed(root: Path) -> None:
    (root / "alias").symlink_to(root / "sub")
    assert resolve_within(root, "alias/file.txt") == root.resolve() / "sub" / "file.txt"


def test_root_given_through_a_symlink(root: Path) -> None:
    link = root.parent / "root-link"
    link.symlink_to(root)
    assert resolve_within(link, "sub/file.txt") == root.resolve() / "sub" / "file.txt"
    with pytest.raises(PathEscapeError):
        resolve_within(link, "../outside")


def test_nul_character_is_rejected(root: Path) -> None:
    with pytest.raises(ValueError, match="NUL"):
        resolve_within(root, "sub/\x00file")


def test_is_within(root: Path) -> None:
    (root / "door").symlink_to(root.parent / "outside")
    assert is_within(root, "sub/file.txt")
    assert is_within(root, root)
    assert not is_within(root, "../outside")
    assert not is_within(root, "door/secret.txt")
    assert not is_within(root, "/")
