from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmspell.core.errors import PermissionDenied, ValidationError
from llmspell.tools.base import ToolContext, ToolResult
from llmspell.tools.builtin.file_search import FileSearchTool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    (folder / "pkg").mkdir(parents=True)
    (folder / "a.py").write_text("import os\nTODO = 1\n")
    (folder / "pkg" / "b.py").write_text("x = 'todo later'\n")
    (folder / "notes.md").write_text("Nothing here\nTODO: write docs\n")
    (folder / ".hidden.py").write_text("TODO hidden\n")
    (folder / "data.bin").write_bytes(b"\x00TODO\x00")
    return folder


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(FileSearchTool(max_results=50, max_file_bytes=1000))
    return reg


def ctx_for(root: Path) -> ToolContext:
    return PermissionPolicy(file_read_roots=[str(root)]).context()


async def run(registry: ToolRegistry, ctx: ToolContext, **params: Any) -> ToolResult:
    return await registry.execute("file_search", params, ctx)


async def test_search_text(registry: ToolRegistry, root: Path) -> None:
    result = await run(registry, ctx_for(root), path=str(root), input="TODO")
    found = {(Path(m["path"]).name, m["line_number"]) for m in result.result["matches"]}
    assert found == {("a.py", 2), ("notes.md", 2)}
    assert result.result["files_searched"] == 3
    assert "a.py:2: TODO = 1" in str(result.text)


async def test_search_options(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root)
    loose = await run(
        registry, ctx, path=str(root), input="todo", case_sensitive=False, file_pattern="*.py"
    )
    assert {Path(m["path"]).name for m in loose.result["matches"]} == {"a.py", "b.py"}
    shallow = await run(registry, ctx, path=str(root), input="todo", recursive=False)
    assert shallow.result["count"] == 0
    regex = await run(registry, ctx, path=str(root), pattern=r"^TODO\b", regex=True)
    assert [m["column"] for m in regex.result["matches"]] == [1, 1]
    hidden = await run(registry, ctx, path=str(root), input="hidden", include_hidden=True)
    assert hidden.result["count"] == 1


async def test_find_files(registry: ToolRegistry, root: Path) -> None:
    result = await run(
        registry, ctx_for(root), operation="find_files", path=str(root), input="*.py"
    )
    assert sorted(m["name"] for m in result.result["matches"]) == ["a.py", "b.py"]


async def test_validation(registry: ToolRegistry, root: Path) -> None:
    ctx = ctx_for(root)
    with pytest.raises(ValidationError, match="parameter 'path' is required"):
        await run(registry, ctx, input="x")
    with pytest.raises(ValidationError, match="parameter 'input': is required"):
        await run(registry, ctx, path=str(root))
    with pytest.raises(ValidationError, match="parameter 'input': invalid regular expression"):
        await run(registry, ctx, path=str(root), input="(", regex=True)


async def test_policy_and_symlink_escape(
    registry: ToolRegistry, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("TODO secret\n")
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (root / "leakdir").symlink_to(tmp_path)
    result = await run(registry, ctx_for(root), path=str(root), input="secret")
    assert result.result["count"] == 0
    with pytest.raises(PermissionDenied, match=r"^file-search: read .*outside the read roots"):
        await run(registry, ctx_for(root), path=str(tmp_path), input="TODO")


async def test_limits(registry: ToolRegistry, root: Path) -> None:
    (root / "many.txt").write_text("TODO\n" * 20)
    (root / "huge.txt").write_text("TODO\n" * 500)
    result = await run(registry, ctx_for(root), path=str(root), input="TODO", max_results=5)
    assert result.result["count"] == 5
    assert result.result["truncated"] is True
    everything = await run(registry, ctx_for(root), path=str(root), input="TODO")
    assert "huge.txt" not in str(everything.text)
