"""csv-analyzer: statistics, head, filter, files under the read policy, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmspell.core.errors import PermissionDenied, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin import csv_analyzer
from llmspell.tools.builtin.csv_analyzer import CsvAnalyzer
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry

CSV = "name,age,city,score\nAnn,31,Paris,1.5\nBob,25,Oslo,\nCid,40,Paris,2.5\n"


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return PermissionPolicy(file_read_roots=[str(tmp_path / "allowed")]).context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(CsvAnalyzer())
    return registry


async def test_analyze(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute("csv-analyzer", {"input": CSV}, ctx)
    stats = result.result
    assert (stats["row_count"], stats["column_count"], stats["ragged_rows"]) == (3, 4, 0)
    columns = {c["name"]: c for c in stats["columns"]}
    assert columns["age"] == {
        "name": "age",
        "type": "number",
        "count": 3,
        "empty": 0,
        "unique": 3,
        "min": 25,
        "max": 40,
        "sum": 96,
        "mean": 32.0,
    }
    assert columns["city"]["type"] == "text"
    assert columns["city"]["unique"] == 2
    assert columns["score"]["count"] == 2
    assert columns["score"]["empty"] == 1
    assert columns["score"]["mean"] == 2.0
    assert "age (number): 3 values, 3 unique, min 25, max 40, mean 32" in str(result.text)


async def test_head(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await registry.execute(
        "csv-analyzer", {"operation": "head", "input": CSV, "limit": 2}, ctx
    )
    assert result.result["columns"] == ["name", "age", "city", "score"]
    assert result.result["rows"] == [
        {"name": "Ann", "age": 31, "city": "Paris", "score": 1.5},
        {"name": "Bob", "age": 25, "city": "Oslo", "score": None},
    ]
    assert result.result["row_count"] == 3
    assert result.text == "name,age,city,score\nAnn,31,Paris,1.5\nBob,25,Oslo,\n"


@pytest.mark.parametrize(
    ("column", "operator", "value", "names"),
    [
        ("city", "eq", "Paris", ["Ann", "Cid"]),
        ("city", "ne", "Paris", ["Bob"]),
        ("age", "gt", 30, ["Ann", "Cid"]),
        ("age", "lte", "31", ["Ann", "Bob"]),
        ("age", "eq", 31.0, ["Ann"]),
        ("name", "contains", "i", ["Cid"]),
        ("name", "starts_with", "B", ["Bob"]),
        ("city", "ends_with", "lo", ["Bob"]),
        ("name", "gt", "B", ["Bob", "Cid"]),
    ],
)
async def test_filter(
    registry: ToolRegistry,
    ctx: ToolContext,
    column: str,
    operator: str,
    value: Any,
    names: list[str],
) -> None:
    params = {
        "operation": "filter",
        "input": CSV,
        "column": column,
        "operator": operator,
        "value": value,
    }
    result = await registry.execute("csv-analyzer", params, ctx)
    assert [row["name"] for row in result.result["rows"]] == names
    assert result.result["row_count"] == len(names)


async def test_no_header_delimiter_and_ragged_rows(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    result = await registry.execute(
        "csv-analyzer",
        {
            "operation": "head",
            "input": "a;1\nb;2;extra\nc\n",
            "delimiter": ";",
            "has_header": False,
        },
        ctx,
    )
    assert result.result["columns"] == ["column_1", "column_2", "column_3"]
    assert result.result["rows"][2] == {"column_1": "c", "column_2": None, "column_3": ""}
    stats = await registry.execute("csv-analyzer", {"input": "x,x,\n1,2,3\n"}, ctx)
    assert [c["name"] for c in stats.result["columns"]] == ["x", "x_2", "column_3"]


async def test_file_input(registry: ToolRegistry, ctx: ToolContext, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "people.csv").write_text(CSV, encoding="utf-8-sig")
    result = await registry.execute("csv-analyzer", {"path": str(allowed / "people.csv")}, ctx)
    assert result.result["columns"][0]["name"] == "name"
    (tmp_path / "other.csv").write_text(CSV)
    with pytest.raises(PermissionDenied, match="file_read_roots"):
        await registry.execute("csv-analyzer", {"path": str(tmp_path / "other.csv")}, ctx)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "input"),
        ({"input": CSV, "path": "x.csv"}, "path"),
        ({"operation": "filter", "input": CSV, "value": 1}, "column"),
        ({"operation": "filter", "input": CSV, "column": "nope", "value": 1}, "column"),
        ({"operation": "filter", "input": CSV, "column": "age"}, "value"),
        ({"operation": "head", "input": CSV, "limit": -1}, "limit"),
        ({"input": CSV, "delimiter": ";;"}, "delimiter"),
        ({"input": 'a\n"unterminated\n', "operation": "head"}, "input"),
    ],
)
async def test_parameter_errors(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ValidationError, match=rf"csv-analyzer: parameter '{parameter}'"):
        await registry.execute("csv-analyzer", params, ctx)


async def test_limits(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_analyzer, "MAX_INPUT_CHARS", 10)
    with pytest.raises(ValidationError, match=r"parameter 'input': \d+ characters exceeds"):
        await CsvAnalyzer().execute({"input": CSV}, ctx)
    monkeypatch.setattr(csv_analyzer, "MAX_INPUT_CHARS", 10_000)
    rows = "v\n" + "1\n" * 50
    result = await CsvAnalyzer().execute(
        {"operation": "filter", "input": rows, "column": "v", "value": 1, "limit": 5}, ctx
    )
    assert len(result.result["rows"]) == 5
    assert result.result["row_count"] == 50
