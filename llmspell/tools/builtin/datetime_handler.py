"""datetime-handler: parse, format, convert, shift and compare dates and times.

Inputs are ISO 8601 strings (``2024-03-01T12:00:00Z``, ``2024-03-01``), RFC 2822 strings, Unix
timestamps (numbers, in seconds), ``"now"``, or text read with an explicit ``input_format``
(strptime). A time without an offset is taken in ``source_timezone`` (default UTC). Time zones are
IANA names (``Europe/Paris``), ``UTC`` or fixed offsets (``+05:30``).

``add``/``subtract`` work in the result's time zone (``timezone`` when given, else the input's):
they move years, months, weeks and days on the local calendar (a month after
January 31 is the last day of February) and hours, minutes and seconds as elapsed time, so a
shift across a daylight-saving change lands where a clock would.

``email.utils`` and ``calendar`` are imported when first needed: they are the slowest imports here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, ClassVar

from llmspell.tools.base import Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import missing, param_error, require

NAME = "datetime-handler"

OPERATIONS = (
    "now",
    "parse",
    "format",
    "convert_timezone",
    "add",
    "subtract",
    "difference",
    "info",
)
CALENDAR_UNITS = ("years", "months", "weeks", "days")
CLOCK_UNITS = ("hours", "minutes", "seconds")
UNITS = CALENDAR_UNITS + CLOCK_UNITS
MAX_FORMAT_CHARS = 200
MAX_INPUT_CHARS = 200

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_UNIT_ALIASES = {unit[:-1]: unit for unit in UNITS}


def zone(name: str, param: str) -> tzinfo:
    """The time zone called ``name``; an error naming ``param`` when there is none."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() in ("UTC", "Z"):
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta >= timedelta(hours=24):
            raise param_error(NAME, param, f"offset '{name}' is out of range")
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise param_error(NAME, param, f"unknown time zone '{name}'") from None


def _zone_param(params: dict[str, Any], key: str) -> tzinfo | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise param_error(NAME, key, "must be a time zone name")
    return zone(value, key)


def parse(value: Any, param: str, params: dict[str, Any]) -> datetime:
    """An aware datetime from ``value``; naive times are placed in ``source_timezone``."""
    source = _zone_param(params, "source_timezone") or UTC
    if isinstance(value, bool):
        raise param_error(NAME, param, "must be a date string or a Unix timestamp")
    if isinstance(value, int | float):
        return _from_timestamp(value, param, source)
    if not isinstance(value, str) or not value.strip():
        raise param_error(NAME, param, "must be a date string or a Unix timestamp")
    if len(value) > MAX_INPUT_CHARS:
        raise param_error(NAME, param, f"is longer than {MAX_INPUT_CHARS} characters")
    text = value.strip()
    parsed = _parse_text(text, param, params)
    if parsed is None:
        raise param_error(
            NAME, param, f"'{text}' is not an ISO 8601 or RFC 2822 date (give 'input_format')"
        )
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=source)


def _from_timestamp(value: float, param: str, tz: tzinfo) -> datetime:
    try:
        return datetime.fromtimestamp(value, tz)
    except (OverflowError, OSError, ValueError):
        raise param_error(NAME, param, f"timestamp {value} is out of range") from None


def _parse_text(text: str, param: str, params: dict[str, Any]) -> datetime | None:
    if text.lower() == "now":
        return datetime.now(UTC)
    pattern = params.get("input_format")
    if pattern is not None:
        try:
            return datetime.strptime(text, str(pattern))
        except ValueError as exc:
            raise param_error(NAME, param, f"does not match 'input_format': {exc}") from None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return _from_timestamp(number, param, UTC)


def _timestamp(moment: datetime) -> int | float:
    stamp = moment.timestamp()
    return int(stamp) if stamp.is_integer() else stamp


def describe(moment: datetime) -> dict[str, Any]:
    """The plain-data form of an aware datetime."""
    return {
        "iso": moment.isoformat(),
        "timestamp": _timestamp(moment),
        "timezone": str(moment.tzinfo),
        "utc_offset": moment.strftime("%z"),
        "year": moment.year,
        "month": moment.month,
        "day": moment.day,
        "hour": moment.hour,
        "minute": moment.minute,
        "second": moment.second,
        "microsecond": moment.microsecond,
        "weekday": moment.strftime("%A"),
    }


def info(moment: datetime) -> dict[str, Any]:
    """``describe`` plus calendar facts: day of year, ISO week, quarter, leap year..."""
    import calendar

    iso_year, iso_week, iso_weekday = moment.isocalendar()
    details = describe(moment)
    details.update(
        day_of_year=moment.timetuple().tm_yday,
        iso_year=iso_year,
        iso_week=iso_week,
        iso_weekday=iso_weekday,
        quarter=(moment.month - 1) // 3 + 1,
        is_leap_year=calendar.isleap(moment.year),
        days_in_month=calendar.monthrange(moment.year, moment.month)[1],
        is_weekend=iso_weekday >= 6,
        is_dst=bool(moment.dst()),
    )
    return details


def _shift_months(moment: datetime, months: int) -> datetime:
    import calendar

    year, month_index = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise param_error(NAME, "amount", "the result is outside years 1-9999")
    day = min(moment.day, calendar.monthrange(year, month_index + 1)[1])
    return moment.replace(year=year, month=month_index + 1, day=day)


def _amounts(params: dict[str, Any], sign: int) -> dict[str, float]:
    """Each unit's signed amount, from ``amount`` + ``unit`` and/or per-unit parameters."""
    amounts: dict[str, float] = {}
    if params.get("amount") is not None:
        raw_unit = params.get("unit") or "seconds"
        unit = _UNIT_ALIASES.get(raw_unit, raw_unit)
        if unit not in UNITS:
            raise param_error(NAME, "unit", f"must be one of: {', '.join(UNITS)}")
        amounts[unit] = _number(params["amount"], "amount")
    for unit in UNITS:
        if params.get(unit) is not None:
            amounts[unit] = amounts.get(unit, 0) + _number(params[unit], unit)
    if not amounts:
        raise param_error(NAME, "amount", "give 'amount' and 'unit' (or e.g. days=2, hours=3)")
    for unit in ("years", "months"):
        if unit in amounts and not float(amounts[unit]).is_integer():
            raise param_error(NAME, unit, f"{unit} must be a whole number")
    return {unit: value * sign for unit, value in amounts.items()}


def _number(value: Any, param: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise param_error(NAME, param, "must be a number")
    return value


def shift(moment: datetime, params: dict[str, Any], sign: int) -> datetime:
    """``moment`` moved by the amounts in ``params`` (``sign`` -1 subtracts)."""
    amounts = _amounts(params, sign)
    try:
        months = int(amounts.get("years", 0)) * 12 + int(amounts.get("months", 0))
        local = _shift_months(moment, months) if months else moment
        local += timedelta(weeks=amounts.get("weeks", 0), days=amounts.get("days", 0))
        elapsed = timedelta(
            hours=amounts.get("hours", 0),
            minutes=amounts.get("minutes", 0),
            seconds=amounts.get("seconds", 0),
        )
        tz = moment.tzinfo
        return (local.astimezone(UTC) + elapsed).astimezone(tz)
    except OverflowError:
        raise param_error(NAME, "amount", "the result is outside years 1-9999") from None


def difference(start: datetime, end: datetime) -> dict[str, Any]:
    """How far ``end`` is after ``start`` (negative when it is before)."""
    delta = end - start
    total = delta.total_seconds()
    remaining = abs(delta)
    hours, rest = divmod(remaining.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = {"days": remaining.days, "hours": hours, "minutes": minutes, "seconds": seconds}
    human = " ".join(f"{n} {unit if n != 1 else unit[:-1]}" for unit, n in parts.items() if n)
    return {
        "total_seconds": int(total) if total.is_integer() else total,
        "minutes": total / 60,
        "hours": total / 3600,
        "days": total / 86400,
        "components": parts,
        "negative": total < 0,
        "human": ("-" if total < 0 else "") + (human or "0 seconds"),
    }


class DateTimeHandler(Tool):
    """Parses, formats, converts and computes with dates and times."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Dates and times: now, parse, format (strftime), convert_timezone, add, subtract, "
        "difference between two dates, and calendar info."
    )
    category: ClassVar[str] = "utility"
    tags: ClassVar[tuple[str, ...]] = ("datetime", "time", "date", "timezone")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(OPERATIONS)},
            "input": {
                "type": ["string", "number"],
                "description": "ISO 8601 / RFC 2822 date, Unix timestamp or 'now'",
            },
            "other": {
                "type": ["string", "number"],
                "description": "difference: the second date (result is other - input)",
            },
            "input_format": {
                "type": "string",
                "maxLength": MAX_FORMAT_CHARS,
                "description": "strptime pattern for reading 'input'",
            },
            "format": {
                "type": "string",
                "maxLength": MAX_FORMAT_CHARS,
                "description": "format: strftime pattern, 'iso' or 'rfc2822' (default "
                "'%Y-%m-%d %H:%M:%S')",
            },
            "timezone": {
                "type": "string",
                "description": "time zone of the result; add/subtract count days in it",
            },
            "source_timezone": {
                "type": "string",
                "description": "time zone of inputs without an offset (default UTC)",
            },
            "amount": {"type": "number", "description": "add/subtract: how much"},
            "unit": {
                "type": "string",
                "enum": [*UNITS, *_UNIT_ALIASES],
                "description": "add/subtract: unit of 'amount' (default seconds)",
            },
            **{unit: {"type": "number"} for unit in UNITS},
        },
        "required": ["operation"],
    }

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        operation = params.get("operation")
        if operation not in OPERATIONS:
            raise param_error(NAME, "operation", f"must be one of: {', '.join(OPERATIONS)}")
        target = _zone_param(params, "timezone")
        if operation == "now":
            moment = datetime.now(target or UTC)
            return ToolResult(result=describe(moment), text=moment.isoformat(), operation=operation)
        moment = parse(require(NAME, params, "input", operation), "input", params)
        if operation == "difference":
            other = parse(require(NAME, params, "other", operation), "other", params)
            result = difference(moment, other)
            return ToolResult(result=result, text=result["human"], operation=operation)
        if operation == "convert_timezone" and target is None:
            raise missing(NAME, "timezone", " for operation 'convert_timezone'")
        if target is not None:
            moment = moment.astimezone(target)
        if operation in ("add", "subtract"):
            moment = shift(moment, params, -1 if operation == "subtract" else 1)
        if operation == "format":
            return _format(moment, params)
        details = info(moment) if operation == "info" else describe(moment)
        return ToolResult(result=details, text=moment.isoformat(), operation=operation)


def _format(moment: datetime, params: dict[str, Any]) -> ToolResult:
    pattern = params.get("format") or "%Y-%m-%d %H:%M:%S"
    if not isinstance(pattern, str) or len(pattern) > MAX_FORMAT_CHARS:
        raise param_error(
            NAME, "format", f"must be a strftime pattern of at most {MAX_FORMAT_CHARS}"
        )
    if pattern.lower() == "rfc2822":
        from email.utils import format_datetime

        formatted = format_datetime(moment)
    elif pattern.lower() == "iso":
        formatted = moment.isoformat()
    else:
        formatted = moment.strftime(pattern)
    result = {"formatted": formatted, "iso": moment.isoformat(), "format": pattern}
    return ToolResult(result=result, text=formatted, operation="format")
