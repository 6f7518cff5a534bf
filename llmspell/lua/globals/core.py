"""``sleep``, ``io.read``, ``ARGS`` and ``arg``: the script's clock, input and arguments."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ValidationError

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge

READ_FORMATS = ("l", "L", "n", "a")


async def _sleep(seconds: Any = 0) -> None:
    import asyncio

    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValidationError(f"sleep: seconds must be a number, got {type(seconds).__name__}")
    if seconds < 0 or math.isnan(seconds):
        raise ValidationError(f"sleep: seconds must not be negative, got {seconds}")
    await asyncio.sleep(seconds)


def parse_args(script_name: str, argv: list[str]) -> tuple[dict[Any, Any], dict[int, str]]:
    """``ARGS`` and ``arg`` from the words after ``--``.

    ``s.lua -- a --k v --flag`` gives ARGS = {[0]="s.lua", "a", k="v", flag="true"} and
    arg = {[0]="s.lua", "a"}.
    """
    named: dict[Any, Any] = {0: script_name}
    positional: dict[int, str] = {0: script_name}
    index = 1
    i = 0
    while i < len(argv):
        word = argv[i]
        if word.startswith("--") and len(word) > 2:
            key, eq, value = word[2:].partition("=")
            if eq:
                named[key] = value
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                named[key] = argv[i + 1]
                i += 1
            else:
                named[key] = "true"
        else:
            named[index] = word
            positional[index] = word
            index += 1
        i += 1
    return named, positional


def install(bridge: Bridge) -> None:
    run = bridge.run  # type: ignore[attr-defined]
    bridge.set_global("sleep", bridge.async_(_sleep, "sleep"))

    async def read(fmt: Any = "l") -> Any:
        import asyncio

        if isinstance(fmt, str):
            fmt = fmt.lstrip("*")[:1]
        if fmt not in READ_FORMATS and not (isinstance(fmt, int) and fmt >= 0):
            raise ValidationError(
                f"io.read: invalid format {fmt!r} (use 'l', 'L', 'n', 'a' or a count)"
            )
        stdin = run.stdin
        if stdin is None:
            return None
        return await asyncio.get_running_loop().run_in_executor(None, _read_stdin, stdin, fmt)

    bridge.set_global("io.read", bridge.async_(read, "io.read"))
    named, positional = parse_args(bridge.script_name, run.spec.args)
    bridge.set_global("ARGS", named)
    bridge.set_global("arg", positional)


def _read_stdin(stdin: Any, fmt: Any) -> Any:
    if fmt == "a":
        return stdin.read()
    if isinstance(fmt, int):
        data = stdin.read(fmt)
        return data if data or fmt == 0 else None
    line = stdin.readline()
    if not line:
        return None
    if fmt == "n":
        try:
            number = float(line.strip())
        except ValueError:
            return None
        return int(number) if number.is_integer() and "." not in line else number
    return line if fmt == "L" else line.rstrip("\n")
