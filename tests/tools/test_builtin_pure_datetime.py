"""datetime-handler: parsing, formatting, time zones, arithmetic, differences, info."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from llmspell.core.errors import ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin.datetime_handler import DateTimeHandler
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


@pytest.fixture
def ctx() -> ToolContext:
    return PermissionPolicy().context()


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(DateTimeHandler())
    return registry


async def run(registry: ToolRegistry, ctx: ToolContext, **params: Any) -> Any:
    result = await registry.execute("datetime-handler", params, ctx)
    assert result.operation == params["operation"]
    return result


async def test_now(registry: ToolRegistry, ctx: ToolContext) -> None:
    before = datetime.now(UTC).timestamp()
    result = await run(registry, ctx, operation="now")
    assert before - 1 <= result.result["timestamp"] <= before + 5
    assert result.result["timezone"] == "UTC"
    tokyo = await run(registry, ctx, operation="now", timezone="Asia/Tokyo")
    assert tokyo.result["utc_offset"] == "+0900"
    assert tokyo.text.endswith("+09:00")


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024-03-01T12:30:00Z", "2024-03-01T12:30:00+00:00"),
        ("2024-03-01", "2024-03-01T00:00:00+00:00"),
        ("2024-03-01T12:30:00+02:00", "2024-03-01T12:30:00+02:00"),
        ("Fri, 01 Mar 2024 12:30:00 +0000", "2024-03-01T12:30:00+00:00"),
        (1709296200, "2024-03-01T12:30:00+00:00"),
        ("1709296200", "2024-03-01T12:30:00+00:00"),
    ],
)
async def test_parse(registry: ToolRegistry, ctx: ToolContext, value: Any, iso: str) -> None:
    result = await run(registry, ctx, operation="parse", input=value)
    assert result.text == iso
    assert result.result["iso"] == iso


async def test_parse_with_input_format_and_source_zone(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    result = await run(
        registry,
        ctx,
        operation="parse",
        input="01/03/2024 08:00",
        input_format="%d/%m/%Y %H:%M",
        source_timezone="Europe/Paris",
    )
    assert result.text == "2024-03-01T08:00:00+01:00"
    assert result.result["timestamp"] == 1709276400
    assert result.result["weekday"] == "Friday"


async def test_format(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await run(
        registry, ctx, operation="format", input="2024-03-01T12:30:00Z", format="%d %B %Y %H:%M"
    )
    assert result.text == "01 March 2024 12:30"
    assert result.result["formatted"] == "01 March 2024 12:30"
    rfc = await run(
        registry, ctx, operation="format", input="2024-03-01T12:30:00Z", format="rfc2822"
    )
    assert rfc.text == "Fri, 01 Mar 2024 12:30:00 +0000"
    default = await run(registry, ctx, operation="format", input="2024-03-01T12:30:00Z")
    assert default.text == "2024-03-01 12:30:00"


async def test_convert_timezone(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await run(
        registry,
        ctx,
        operation="convert_timezone",
        input="2024-07-01T12:00:00Z",
        timezone="America/New_York",
    )
    assert result.text == "2024-07-01T08:00:00-04:00"
    offset = await run(
        registry, ctx, operation="convert_timezone", input="2024-07-01T12:00:00Z", timezone="+05:30"
    )
    assert offset.text == "2024-07-01T17:30:00+05:30"


async def test_add_and_subtract(registry: ToolRegistry, ctx: ToolContext) -> None:
    month = await run(registry, ctx, operation="add", input="2024-01-31", amount=1, unit="month")
    assert month.text == "2024-02-29T00:00:00+00:00"
    mixed = await run(registry, ctx, operation="add", input="2024-01-01T00:00:00Z", days=2, hours=3)
    assert mixed.text == "2024-01-03T03:00:00+00:00"
    back = await run(
        registry, ctx, operation="subtract", input="2024-03-01T00:00:00Z", amount=1, unit="years"
    )
    assert back.text == "2023-03-01T00:00:00+00:00"


async def test_add_across_daylight_saving(registry: ToolRegistry, ctx: ToolContext) -> None:
    start = "2024-03-30T12:00:00+01:00"
    day = await run(registry, ctx, operation="add", input=start, days=1, timezone="Europe/Paris")
    assert day.text == "2024-03-31T12:00:00+02:00"
    hours = await run(
        registry, ctx, operation="add", input=start, hours=24, timezone="Europe/Paris"
    )
    assert hours.text == "2024-03-31T13:00:00+02:00"


async def test_difference(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await run(
        registry,
        ctx,
        operation="difference",
        input="2024-01-01T00:00:00Z",
        other="2024-01-02T03:04:05Z",
    )
    assert result.result["total_seconds"] == 97445
    assert result.result["components"] == {"days": 1, "hours": 3, "minutes": 4, "seconds": 5}
    assert result.text == "1 day 3 hours 4 minutes 5 seconds"
    negative = await run(
        registry, ctx, operation="difference", input="2024-01-02", other="2024-01-01"
    )
    assert negative.result["negative"] is True
    assert negative.result["days"] == -1
    assert negative.text == "-1 day"


async def test_info(registry: ToolRegistry, ctx: ToolContext) -> None:
    result = await run(registry, ctx, operation="info", input="2024-12-30T10:00:00Z")
    info = result.result
    assert info["day_of_year"] == 365
    assert info["is_leap_year"] is True
    assert (info["iso_year"], info["iso_week"]) == (2025, 1)
    assert info["quarter"] == 4
    assert info["days_in_month"] == 31
    assert info["is_weekend"] is False


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"operation": "parse"}, "input"),
        ({"operation": "parse", "input": "not a date"}, "input"),
        ({"operation": "parse", "input": "2024-01-01", "input_format": "%d/%m/%Y"}, "input"),
        ({"operation": "now", "timezone": "Mars/Olympus"}, "timezone"),
        ({"operation": "now", "timezone": "../../etc/passwd"}, "timezone"),
        ({"operation": "convert_timezone", "input": "2024-01-01"}, "timezone"),
        ({"operation": "add", "input": "2024-01-01"}, "amount"),
        ({"operation": "add", "input": "2024-01-01", "amount": 1.5, "unit": "months"}, "months"),
        ({"operation": "add", "input": "9999-12-01", "amount": 2, "unit": "months"}, "amount"),
        ({"operation": "add", "input": "2024-01-01", "days": 1e12}, "amount"),
        ({"operation": "difference", "input": "2024-01-01"}, "other"),
        ({"operation": "parse", "input": 1e20}, "input"),
        ({"operation": "parse", "input": "2" * 300}, "input"),
        ({"operation": "when"}, "operation"),
    ],
)
async def test_parameter_errors(
    registry: ToolRegistry, ctx: ToolContext, params: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ValidationError, match=rf"datetime-handler: parameter '{parameter}'"):
        await registry.execute("datetime-handler", params, ctx)
