"""csv-analyzer: column statistics, the first rows, and filtered rows of CSV data.

The CSV comes inline (``input``) or from a file (``path``, read through the permission policy).
A column whose non-empty values are all numbers is numeric: its statistics include min, max,
mean and sum, and its values come back as numbers in ``head`` and ``filter`` rows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import (
    check_size,
    param_error,
    read_text_file,
    require,
    source_param,
)

NAME = "csv-analyzer"

MAX_INPUT_CHARS = 10_000_000
MAX_ROWS_RETURNED = 10_000
OPERATIONS = ("analyze", "head", "filter")
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "contains": lambda cell, value: str(value) in str(cell),
    "starts_with": lambda cell, value: str(cell).startswith(str(value)),
    "ends_with": lambda cell, value: str(cell).endswith(str(value)),
}
_INT = re.compile(r"^[+-]?\d+$")


def number(text: str) -> int | float | None:
    """``text`` as an int or a finite float, or ``None`` when it is not a number."""
    stripped = text.strip()
    if _INT.match(stripped) and len(stripped) <= 30:
        return int(stripped)
    try:
        value = float(stripped)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class Table:
    """Parsed CSV: unique column names, rows of cells, and the values of numeric columns.

    ``numbers[i]`` holds column ``i`` converted (``None`` for empty cells) when every non-empty
    cell of it is a number, and is ``None`` for a text column.
    """

    columns: list[str]
    rows: list[list[str]]
    numbers: list[list[int | float | None] | None]
    ragged_rows: int

    def typed(self, index: int) -> dict[str, Any]:
        """Row ``index`` as ``{column: value}``; numeric columns hold numbers, empty cells nil."""
        row = self.rows[index]
        return {
            name: row[col] if values is None else values[index]
            for col, (name, values) in enumerate(zip(self.columns, self.numbers, strict=True))
        }


def parse(text: str, *, delimiter: str, has_header: bool) -> Table:
    """Read CSV text; ``csv.Error`` says what is wrong with it."""
    records = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
    records = [r for r in records if r]
    width = max((len(r) for r in records), default=0)
    header = records[0] if has_header and records else []
    body = records[1:] if has_header and records else records
    columns = _unique_names(header, width)
    ragged = sum(1 for r in body if len(r) != len(columns))
    rows = [(r + [""] * len(columns))[: len(columns)] for r in body]
    numbers = [_numbers([row[i] for row in rows]) for i in range(len(columns))]
    return Table(columns=columns, rows=rows, numbers=numbers, ragged_rows=ragged)


def _unique_names(header: list[str], width: int) -> list[str]:
    names: list[str] = []
    for index in range(width):
        base = header[index].strip() if index < len(header) else ""
        base = base or f"column_{index + 1}"
        name, suffix = base, 2
        while name in names:
            name, suffix = f"{base}_{suffix}", suffix + 1
        names.append(name)
    return names


def _numbers(cells: list[str]) -> list[int | float | None] | None:
    """The cells as numbers (``None`` when empty), or ``None`` unless all non-empty ones are."""
    values: list[int | float | None] = []
    present = False
    for cell in cells:
        if not cell.strip():
            values.append(None)
            continue
        value = number(cell)
        if value is None:
            return None
        values.append(value)
        present = True
    return values if present else None


def statistics(table: Table) -> dict[str, Any]:
    """Per-column statistics: count, empty, unique; min, max, mean and sum when numeric."""
    columns = []
    for index, name in enumerate(table.columns):
        cells = [row[index] for row in table.rows]
        present = [c for c in cells if c.strip()]
        numbers = table.numbers[index]
        stats: dict[str, Any] = {
            "name": name,
            "type": "text" if numbers is None else "number",
            "count": len(present),
            "empty": len(cells) - len(present),
            "unique": len(set(present)),
        }
        if numbers is not None:
            values = [v for v in numbers if v is not None]
            total = math.fsum(values) if any(isinstance(v, float) for v in values) else sum(values)
            stats.update(min=min(values), max=max(values), sum=total, mean=total / len(values))
        columns.append(stats)
    return {
        "row_count": len(table.rows),
        "column_count": len(table.columns),
        "columns": columns,
        "ragged_rows": table.ragged_rows,
    }


def _summary(stats: dict[str, Any]) -> str:
    lines = [f"{stats['row_count']} rows, {stats['column_count']} columns"]
    for col in stats["columns"]:
        line = f"{col['name']} ({col['type']}): {col['count']} values, {col['unique']} unique"
        if col["type"] == "number":
            line += f", min {col['min']}, max {col['max']}, mean {col['mean']:.6g}"
        lines.append(line)
    return "\n".join(lines)


def to_csv(columns: list[str], rows: list[dict[str, Any]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _match_value(value: Any) -> tuple[str, int | float | None]:
    """The filter value as text and, when it is one, as a number (booleans are text)."""
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int | float):
        return str(value), value
    return str(value), number(str(value))


def filter_rows(
    table: Table, params: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Rows whose ``column`` compares true with ``value`` (at most ``limit``) and the match count.

    Numbers compare as numbers when both the cell and the value are numeric; everything else
    compares as text.
    """
    column = require(NAME, params, "column", "filter")
    if column not in table.columns:
        known = ", ".join(table.columns)
        raise param_error(NAME, "column", f"no column '{column}' (columns: {known})")
    op_name = params.get("operator") or "eq"
    if op_name not in COMPARISONS:
        raise param_error(NAME, "operator", f"must be one of: {', '.join(COMPARISONS)}")
    text, numeric = _match_value(require(NAME, params, "value", "filter"))
    index = table.columns.index(column)
    compare = COMPARISONS[op_name]
    textual = op_name in ("contains", "starts_with", "ends_with")
    matched: list[dict[str, Any]] = []
    count = 0
    column_numbers = table.numbers[index]
    for row_index, row in enumerate(table.rows):
        cell = row[index]
        cell_number = None
        if not textual and numeric is not None:
            cell_number = number(cell) if column_numbers is None else column_numbers[row_index]
        hit = compare(cell, text) if cell_number is None else compare(cell_number, numeric)
        if hit:
            count += 1
            if len(matched) < limit:
                matched.append(table.typed(row_index))
    return matched, count


class CsvAnalyzer(Tool):
    """Analyzes CSV data."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Analyze CSV text or a CSV file: statistics per column (count, unique, numeric "
        "min/max/mean), the first rows (head), or rows matching a condition (filter)."
    )
    category: ClassVar[str] = "data"
    tags: ClassVar[tuple[str, ...]] = ("csv", "data", "statistics")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(OPERATIONS), "default": "analyze"},
            "input": {"type": "string", "description": "CSV text"},
            "path": {"type": "string", "description": "a CSV file instead of 'input'"},
            "delimiter": {"type": "string", "minLength": 1, "maxLength": 1, "default": ","},
            "has_header": {"type": "boolean", "default": True},
            "limit": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_ROWS_RETURNED,
                "description": "head: rows to return (default 5); filter: most rows (100)",
            },
            "column": {"type": "string", "description": "filter: the column to test"},
            "operator": {"type": "string", "enum": list(COMPARISONS), "default": "eq"},
            "value": {
                "type": ["string", "number", "boolean"],
                "description": "filter: the value to compare with",
            },
        },
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation") or "analyze"
        if operation not in OPERATIONS:
            raise param_error(NAME, "operation", f"must be one of: {', '.join(OPERATIONS)}")
        delimiter = params.get("delimiter") or ","
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise param_error(NAME, "delimiter", "must be a single character")
        table = await self._table(params, ctx, delimiter)
        if operation == "analyze":
            stats = statistics(table)
            return ToolResult(result=stats, text=_summary(stats), operation=operation)
        limit = params.get("limit", 5 if operation == "head" else 100)
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 0 <= limit <= MAX_ROWS_RETURNED
        ):
            raise param_error(
                NAME, "limit", f"must be a whole number from 0 to {MAX_ROWS_RETURNED}"
            )
        if operation == "head":
            rows = [table.typed(i) for i in range(min(limit, len(table.rows)))]
            matched = len(table.rows)
        else:
            rows, matched = filter_rows(table, params, limit)
        result = {"columns": table.columns, "rows": rows, "row_count": matched}
        return ToolResult(
            result=result, text=to_csv(table.columns, rows, delimiter), operation=operation
        )

    async def _table(self, params: dict[str, Any], ctx: ToolContext, delimiter: str) -> Table:
        source = source_param(NAME, params)
        if source == "path":
            text = await read_text_file(NAME, "path", str(params["path"]), ctx, MAX_INPUT_CHARS)
        else:
            text = params["input"]
            if not isinstance(text, str):
                raise param_error(NAME, "input", "must be CSV text")
            check_size(NAME, "input", text, MAX_INPUT_CHARS)
        try:
            return await asyncio.to_thread(
                parse, text, delimiter=delimiter, has_header=params.get("has_header", True)
            )
        except csv.Error as exc:
            raise param_error(NAME, source, f"invalid CSV: {exc}") from None
