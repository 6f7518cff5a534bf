"""``llmspell repl``: an interactive Lua session in the sandbox."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import click

from llmspell.cli.running import load_host

HELP = """\
Enter Lua statements or expressions; an expression's value is printed.
An incomplete statement continues on the next line.
  .help   this text
  .exit   leave (Ctrl+D works too)
"""


@click.command()
@click.pass_context
def repl(ctx: click.Context) -> None:
    """Start an interactive Lua session (line editing, multi-line input)."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (enables line editing for input())
    host = load_host(ctx.find_root().obj or {})
    session = host.session(on_output=_write)
    click.echo("llmspell repl (Lua 5.4). .help for help, .exit to leave.")
    buffer: list[str] = []
    while True:
        try:
            line = input("... " if buffer else "> ")
        except EOFError:
            click.echo()
            break
        except KeyboardInterrupt:
            click.echo()
            buffer.clear()
            continue
        if not buffer and line.strip() in (".exit", ".quit"):
            break
        if not buffer and line.strip() == ".help":
            click.echo(HELP)
            continue
        buffer.append(line)
        source = "\n".join(buffer)
        if session.is_incomplete(source):
            continue
        buffer.clear()
        result = session.eval(source)
        if result.status != "ok":
            click.echo(f"error[{result.error_kind}]: {result.error}", err=True)
        elif result.value is not None:
            click.echo(_show(result.value))


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _write(stream: str, text: str) -> None:
    out = sys.stdout if stream == "stdout" else sys.stderr
    out.write(text)
    out.flush()
