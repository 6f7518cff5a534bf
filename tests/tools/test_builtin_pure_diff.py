"""diff-calculator: unified text diffs, structural JSON differences, files, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmspell.core.errors import PermissionDenied, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin import diff_calculator
from llmspell.tools.builtin.diff_calculator import DiffCalculator
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return PermissionPolicy(file_read_roots=[str(tmp_path / "allowed")]).context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(DiffCalculator())
    return registry


async def test_text_diff(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute(
        "diff-calculator", {"old": "a\nb\nc\n", "new": "a\nB\nc\nd\n"}, ctx
    )
    assert result.operation == "text"
    assert result.text == "--- old\n+++ new\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n"
    assert result.result["added"] == 2
    assert result.result["removed"] == 1
    assert result.result["changed"] is True


async def test_identical_texts(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute("diff-calculator", {"old": "same", "new": "same"}, ctx)
    assert result.result == {"diff": "", "added": 0, "removed": 0, "changed": False}


async def test_labels_and_context(registry: ToolRegistry, ctx: ToolContext) -> None:
    old = "\n".join(str(i) for i in range(10))
    new = old.replace("5", "five")
    result = await registry.execute(
        "diff-calculator",
        {"old": old, "new": new, "context_lines": 0, "old_label": "v1", "new_label": "v2"},
        ctx,
    )
    assert result.text == "--- v1\n+++ v2\n@@ -6 +6 @@\n-5\n+five\n"


async def test_files_under_the_read_policy(
    registry: ToolRegistry, ctx: ToolContext, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "a.txt").write_text("x\n")
    (allowed / "b.txt").write_text("y\n")
    (tmp_path / "secret.txt").write_text("s\n")
    result = await registry.execute(
        "diff-calculator",
        {"source_path": str(allowed / "a.txt"), "target_path": str(allowed / "b.txt")},
        ctx,
    )
    assert "-x\n+y\n" in str(result.text)
    assert str(result.text).startswith(f"--- {allowed / 'a.txt'}")
    with pytest.raises(PermissionDenied):
        await registry.execute(
            "diff-calculator",
            {"source_path": str(tmp_path / "secret.txt"), "new": "y"},
            ctx,
        )


async def test_json_differences(registry: ToolRegistry, ctx: ToolContext) -> None:
    old = {"a": 1, "b": {"c": [1, 2, 3]}, "gone": True, "odd key": 1, "flag": 1}
    new = '{"a": 1.0, "b": {"c": [1, 5]}, "added": null, "odd key": 2, "flag": true}'
    result = await registry.execute(
        "diff-calculator", {"operation": "json", "old": old, "new": new}, ctx
    )
    diff = result.result
    assert diff["equal"] is False
    assert diff["differences"] == [
        {"op": "removed", "path": "$.gone", "old": True},
        {"op": "added", "path": "$.added", "new": None},
        {"op": "changed", "path": "$.b.c[1]", "old": 2, "new": 5},
        {"op": "removed", "path": "$.b.c[2]", "old": 3},
        {"op": "changed", "path": '$["odd key"]', "old": 1, "new": 2},
        {"op": "changed", "path": "$.flag", "old": 1, "new": True},
    ]
    assert "~ $.b.c[1]: 2 -> 5" in str(result.text)
    assert "- $.gone: true" in str(result.text)


async def test_json_equal_and_limit(registry: ToolRegistry, ctx: ToolContext) -> None:
    equal = await registry.execute(
        "diff-calculator", {"operation": "json", "old": '[1, {"a": 2}]', "new": [1, {"a": 2}]}, ctx
    )
    assert equal.result["equal"] is True
    assert equal.text == "equal"
    limited = await registry.execute(
        "diff-calculator",
        {"operation": "json", "old": list(range(10)), "new": [], "max_differences": 4},
        ctx,
    )
    assert limited.result["count"] == 4
    assert limited.result["truncated"] is True


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"new": "x"}, "old"),
        ({"old": "x", "source_path": "a", "new": "y"}, "old"),
        ({"old": "x"}, "new"),
        ({"old": 1, "new": "x"}, "old"),
        ({"operation": "json", "old": "{", "new": "{}"}, "old"),
        ({"old": "a", "new": "b", "context_lines": -1}, "context_lines"),
        ({"operation": "patch", "old": "a", "new": "b"}, "operation"),
    ],
)
async def test_parameter_errors(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ValidationError, match=rf"diff-calculator: parameter '{parameter}'"):
        await registry.execute("diff-calculator", params, ctx)


async def test_size_limits(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diff_calculator, "MAX_SIDE_CHARS", 10)
    with pytest.raises(ValidationError, match=r"parameter 'new': 11 characters exceeds"):
        await DiffCalculator().execute({"old": "a", "new": "x" * 11}, ctx)
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "big.txt").write_text("x" * 11)
    with pytest.raises(
        ValidationError, match=r"parameter 'source_path': .* has 11 bytes; the limit is 10"
    ):
        await DiffCalculator().execute({"source_path": str(allowed / "big.txt"), "new": "a"}, ctx)
