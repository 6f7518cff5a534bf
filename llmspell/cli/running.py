"""Running a script from the CLI: live output, Ctrl+C, the JSON report and the exit status."""

from __future__ import annotations

import json
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from llmspell.core.result import RunResult
from llmspell.host import Host

if TYPE_CHECKING:
    from llmspell.cli.spinner import WaitSpinner


def load_host(obj: dict[str, Any]) -> Host:
    limits = {k: v for k, v in obj.get("limits", {}).items() if v is not None}
    return Host(
        obj.get("config_path"), limits=limits, discover=True, isolation=obj.get("isolation")
    )


def emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


def _write_live(stream: str, text: str) -> None:
    out = sys.stdout if stream == "stdout" else sys.stderr
    out.write(text)
    out.flush()


def _write_stderr_live(stream: str, text: str) -> None:
    """With ``--output json`` stdout carries only the JSON report; stderr stays live."""
    if stream != "stdout":
        _write_live(stream, text)


def run_script(
    obj: dict[str, Any],
    source: str | bytes,
    *,
    name: str,
    args: list[str],
    stream: bool = False,
    print_value: bool = False,
    mode: str | None = None,
    session: str | None = None,
    run_kind: str = "script",
) -> int:
    """Run one script as ``llmspell run``/``exec`` do; returns the exit status.

    Ctrl+C or SIGTERM stops the script (its run is recorded as interrupted); a second one
    stops the process.
    """
    host = load_host(obj)
    json_mode = obj.get("output") == "json"
    trace = obj.get("trace", "off")
    script = host.prepare(
        source,
        name=name,
        args=args,
        on_output=_write_stderr_live if json_mode else _write_live,
        stdin=sys.stdin,
        log_level=None if trace == "off" else trace,
        stream=stream and not json_mode,
        mode=mode,
        session=session,
        run_kind=run_kind,
        budget=obj.get("budget"),
        cache=obj.get("cache"),
    )
    spinner = _spinner() if script.stream_to_output else None
    if spinner is not None:
        script.on_stream_wait = spinner.waiting
    interrupts = 0

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise KeyboardInterrupt
        script.cancel("interrupted")

    previous = {sig: signal.signal(sig, on_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = host.execute(script)
    finally:
        if spinner is not None:
            spinner.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    report(result, json_mode=json_mode, print_value=print_value)
    return result.cli_exit_code


def _spinner() -> WaitSpinner | None:
    """The ``--stream`` spinner, on a terminal only (it would litter a pipe or a file)."""
    if not sys.stdout.isatty():
        return None
    from llmspell.cli.spinner import WaitSpinner

    return WaitSpinner(sys.stderr)


def report(result: RunResult, *, json_mode: bool, print_value: bool) -> None:
    if json_mode:
        emit(result.to_dict())
        return
    if result.status != "ok":
        click.echo(f"error[{result.error_kind}]: {result.error}", err=True)
    elif print_value and result.value is not None:
        value = result.value
        click.echo(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
