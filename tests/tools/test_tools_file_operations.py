from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmspell.core.errors import PermissionDenied, ToolError, ValidationError
from llmspell.tools.base import ToolContext, ToolResult
from llmspell.tools.builtin.file_operations import FileOperationsTool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(FileOperationsTool(max_read_bytes=100, max_write_bytes=50, max_entries=3))
    return reg


def ctx_for(root: Path, **kwargs: Any) -> ToolContext:
    mode = kwargs.pop("mode", "auto")
    policy = PermissionPolicy(file_read_roots=[str(root)], file_write_roots=[str(root)], **kwargs)
    return policy.context(mode=mode)


async def run(registry: ToolRegistry, ctx: ToolContext, **params: Any) -> ToolResult:
    return await registry.execute("file-operations", params, ctx)


async def test_write_read_append_exists_metadata(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root)
    path = str(root / "notes.txt")
    written = await run(registry, ctx, operation="write", path=path, input="hello")
    assert written.result["bytes_written"] == 5
    assert written.operation == "write"
    await run(registry, ctx, operation="append", path=path, content=" world")
    read = await run(registry, ctx, operation="read", path=path)
    assert read.text == "hello world"
    assert read.result["content"] == "hello world"
    assert read.result["size"] == 11
    exists = await run(registry, ctx, operation="exists", path=path)
    assert exists.result == {"path": str(root / "notes.txt"), "exists": True, "type": "file"}
    missing = await run(registry, ctx, operation="exists", path=str(root / "nope"))
    assert missing.result["exists"] is False
    meta = await run(registry, ctx, operation="metadata", path=path)
    assert meta.result["size"] == 11
    assert meta.result["type"] == "file"


async def test_write_is_atomic_and_respects_overwrite(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root)
    path = root / "a.txt"
    path.write_text("old")
    with pytest.raises(ToolError, match="exists and overwrite is false"):
        await run(registry, ctx, operation="write", path=str(path), input="new", overwrite=False)
    await run(registry, ctx, operation="write", path=str(path), input="new")
    assert path.read_text() == "new"
    assert [p.name for p in root.iterdir()] == ["a.txt"]


async def test_dirs_copy_move_delete(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root)
    await run(registry, ctx, operation="create_dir", path=str(root / "d" / "e"))
    (root / "d" / "e" / "f.txt").write_text("x")
    await run(
        registry,
        ctx,
        operation="copy",
        source_path=str(root / "d" / "e" / "f.txt"),
        target_path=str(root / "g.txt"),
    )
    await run(
        registry,
        ctx,
        operation="move",
        source_path=str(root / "g.txt"),
        target_path=str(root / "h.txt"),
    )
    assert (root / "h.txt").read_text() == "x"
    assert not (root / "g.txt").exists()
    listing = await run(registry, ctx, operation="list_dir", path=str(root))
    assert [e["name"] for e in listing.result["entries"]] == ["d", "h.txt"]
    assert listing.text == "d\nh.txt"
    with pytest.raises(ValidationError, match="parameter 'recursive': must be true"):
        await run(registry, ctx, operation="delete", path=str(root / "d"))
    await run(registry, ctx, operation="delete", path=str(root / "d"), recursive=True)
    assert not (root / "d").exists()
    with pytest.raises(ToolError, match="is a write root and cannot be deleted"):
        await run(registry, ctx, operation="delete", path=str(root), recursive=True)


async def test_validation_errors_name_the_parameter(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root)
    with pytest.raises(ValidationError, match="parameter 'operation' is required"):
        await run(registry, ctx, path="x")
    with pytest.raises(ValidationError, match="parameter 'path': is required for operation 'read'"):
        await run(registry, ctx, operation="read")
    with pytest.raises(
        ValidationError, match="parameter 'input': is required for operation 'write'"
    ):
        await run(registry, ctx, operation="write", path=str(root / "x"))
    with pytest.raises(ValidationError, match="parameter 'target_path': is required"):
        await run(registry, ctx, operation="copy", source_path=str(root / "x"))
    with pytest.raises(ValidationError, match="parameter 'encoding': unknown encoding"):
        await run(registry, ctx, operation="read", path=str(root / "x"), encoding="klingon")


async def test_policy_denials(registry: ToolRegistry, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    ctx = ctx_for(root)
    with pytest.raises(PermissionDenied, match=r"^file-operations: read .*outside the read roots"):
        await run(registry, ctx, operation="read", path=str(outside))
    with pytest.raises(PermissionDenied, match="outside the read roots"):
        await run(registry, ctx, operation="read", path=str(root / ".." / "outside.txt"))
    with pytest.raises(PermissionDenied, match="outside the write roots"):
        await run(registry, ctx, operation="write", path=str(outside), input="x")
    with pytest.raises(PermissionDenied, match="outside the read roots"):
        await run(
            registry, ctx, operation="copy", source_path=str(outside), target_path=str(root / "c")
        )
    read_only = PermissionPolicy(file_read_roots=[str(root)]).context()
    with pytest.raises(PermissionDenied, match="no write roots are configured"):
        await run(registry, read_only, operation="write", path=str(root / "x"), input="x")
    with pytest.raises(PermissionDenied, match="no read roots"):
        await run(registry, PermissionPolicy().context(), operation="read", path=str(outside))
    assert outside.read_text() == "secret"


async def test_symlink_escape(registry: ToolRegistry, root: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("s")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "dirlink").symlink_to(tmp_path)
    ctx = ctx_for(root)
    with pytest.raises(PermissionDenied):
        await run(registry, ctx, operation="read", path=str(root / "link.txt"))
    with pytest.raises(PermissionDenied):
        await run(registry, ctx, operation="write", path=str(root / "dirlink" / "x"), input="x")
    with pytest.raises(PermissionDenied):
        await run(registry, ctx, operation="delete", path=str(root / "link.txt"))
    assert (tmp_path / "secret.txt").exists()


async def test_limits(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root)
    (root / "big.txt").write_text("x" * 101)
    with pytest.raises(ToolError, match="has 101 bytes; the read limit is 100"):
        await run(registry, ctx, operation="read", path=str(root / "big.txt"))
    with pytest.raises(ToolError, match="the read limit is 10"):
        await run(registry, ctx, operation="read", path=str(root / "big.txt"), max_size=10)
    with pytest.raises(ValidationError, match="parameter 'input': 51 bytes exceeds the limit"):
        await run(registry, ctx, operation="write", path=str(root / "w"), input="y" * 51)
    (root / "w").write_text("z" * 40)
    with pytest.raises(ToolError, match="would make it 60 bytes"):
        await run(registry, ctx, operation="append", path=str(root / "w"), input="y" * 20)
    for i in range(5):
        (root / f"f{i}").write_text("")
    listing = await run(registry, ctx, operation="list_dir", path=str(root))
    assert listing.result["count"] == 3
    assert listing.result["truncated"] is True


async def test_dry_run_writes_nothing_but_reads(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root, mode="dry-run")
    path = root / "a.txt"
    result = await run(registry, ctx, operation="write", path=str(path), input="x")
    assert result.result["executed"] is False
    assert not path.exists()
    await run(registry, ctx, operation="delete", path=str(root))
    assert root.exists()
    path.write_text("kept")
    assert (await run(registry, ctx, operation="read", path=str(path))).text == "kept"
    assert [entry["params"]["operation"] for entry in ctx.permissions.dry_run_log] == [
        "write",
        "delete",
    ]
