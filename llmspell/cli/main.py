"""The ``llmspell`` command line: global options, the script commands, and lazily loaded groups."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

import click

from llmspell import __version__
from llmspell.core.errors import EXIT_CODES, LlmspellError

MODES = ("auto", "strict", "dry-run")

# Command groups that live in their own modules, imported only when invoked (or listed).
LAZY_COMMANDS: dict[str, str] = {
    "config": "llmspell.cli.cmd_config:config",
    "repl": "llmspell.cli.cmd_repl:repl",
    "model": "llmspell.cli.cmd_model:model",
    "providers": "llmspell.cli.cmd_providers:providers",
    "mock-server": "llmspell.cli.cmd_mock_server:mock_server",
    "tool": "llmspell.cli.cmd_tool:tool",
    "workflow": "llmspell.cli.cmd_workflow:workflow",
    "state": "llmspell.cli.cmd_state:state",
    "session": "llmspell.cli.cmd_state:session",
    "runs": "llmspell.cli.cmd_state:runs",
    "audit": "llmspell.cli.cmd_state:audit",
    "chat": "llmspell.cli.cmd_chat:chat",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        available = [name for name, target in LAZY_COMMANDS.items() if _module_exists(target)]
        return sorted([*super().list_commands(ctx), *available])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        module_name, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        loaded: click.Command | None = getattr(module, attr, None)
        return loaded


def _module_exists(target: str) -> bool:
    from importlib.util import find_spec

    return find_spec(target.partition(":")[0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="llmspell")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Config file (TOML)."
)
@click.option(
    "--output",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints exactly one JSON object on stdout.",
)
@click.option(
    "--trace",
    type=click.Choice(["off", "error", "warn", "info", "debug", "trace"]),
    default="off",
    help="Log level of Debug.* output; debug and trace also show Python tracebacks.",
)
@click.option("--timeout", type=float, help="Wall-clock limit of a run, in seconds.")
@click.option("--memory-limit", type=float, help="Memory limit of the Lua VM, in MiB.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: str | None,
    output_format: str,
    trace: str,
    timeout: float | None,
    memory_limit: float | None,
) -> None:
    """Script LLM agents, tools and workflows in sandboxed Lua."""
    ctx.ensure_object(dict)
    ctx.obj.update(
        config_path=config_path,
        output=output_format,
        trace=trace,
        limits={"wall_seconds": timeout, "memory_mb": memory_limit},
    )


def _keep_budget(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Keep a budget limit given on the command line for ``run_script``."""
    if value is not None:
        ctx.ensure_object(dict).setdefault("budget", {})[param.name] = value


def _keep_no_cache(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["cache"] = False


def _keep_isolation(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(dict)["isolation"] = value


isolation_option = click.option(
    "--isolation",
    type=click.Choice(["in-process", "process"]),
    expose_value=False,
    callback=_keep_isolation,
    help="Run the Lua VM in this process or in a worker process (default: [runtime] isolation).",
)


def cost_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--max-cost``, ``--max-tokens`` and ``--no-cache`` of a command that runs a script."""
    options = (
        click.option(
            "--max-cost",
            "max_cost_usd",
            type=click.FloatRange(min=0),
            expose_value=False,
            callback=_keep_budget,
            help="Stop the run once its model calls cost more than this many US dollars.",
        ),
        click.option(
            "--max-tokens",
            "max_tokens_total",
            type=click.IntRange(min=0),
            expose_value=False,
            callback=_keep_budget,
            help="Stop the run once its model calls used more tokens (input + output).",
        ),
        click.option(
            "--no-cache",
            "cache",
            is_flag=True,
            expose_value=False,
            callback=_keep_no_cache,
            help="Do not answer model requests from the response cache in this run.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@cost_options
@isolation_option
@click.option("--stream", is_flag=True, help="Write agent tokens to the terminal as they arrive.")
@click.option("--mode", type=click.Choice(MODES), help="Permission mode of tool calls.")
@click.option("--session", help="Run in this session (id or name; a new name creates it).")
@click.pass_context
def run(
    ctx: click.Context,
    script: str,
    args: tuple[str, ...],
    stream: bool,
    mode: str | None,
    session: str | None,
) -> None:
    """Run a Lua script. Words after `--` reach the script as ARGS and arg."""
    from llmspell.cli.running import run_script

    words = list(args[1:] if args and args[0] == "--" else args)
    status = run_script(
        ctx.obj, script, name=script, args=words, stream=stream, mode=mode, session=session
    )
    sys.exit(status)


@cli.command(name="exec")
@click.argument("code")
@cost_options
@isolation_option
@click.option("--stream", is_flag=True, help="Write agent tokens to the terminal as they arrive.")
@click.option("--mode", type=click.Choice(MODES), help="Permission mode of tool calls.")
@click.option("--session", help="Run in this session (id or name; a new name creates it).")
@click.pass_context
def exec_(
    ctx: click.Context, code: str, stream: bool, mode: str | None, session: str | None
) -> None:
    """Run Lua code given on the command line; a returned value is printed."""
    from llmspell.cli.running import run_script

    status = run_script(
        ctx.obj,
        code.encode(),
        name="exec",
        args=[],
        stream=stream,
        print_value=True,
        mode=mode,
        session=session,
        run_kind="exec",
    )
    sys.exit(status)


@cli.command()
@click.argument("script", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def validate(ctx: click.Context, script: str) -> None:
    """Check a script's syntax without running it."""
    from llmspell.cli.running import emit, load_host

    host = load_host(ctx.obj)
    error = host.check_syntax(script)
    if ctx.obj["output"] == "json":
        emit({"status": "ok" if error is None else "error", "error": error})
    elif error is None:
        click.echo(f"{script}: syntax ok")
    else:
        click.echo(f"error[syntax]: {error}", err=True)
    sys.exit(0 if error is None else EXIT_CODES["syntax"])


@cli.command()
def version() -> None:
    """Show the llmspell, Lua and lupa versions."""
    from importlib.metadata import version as dist_version

    click.echo(f"llmspell {__version__} (Lua 5.4, lupa {dist_version('lupa')})")


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: usage and configuration errors exit with status 2."""
    try:
        return cli.main(args=argv, prog_name="llmspell", standalone_mode=True)
    except LlmspellError as exc:
        click.echo(f"error[{exc.error_kind}]: {exc}", err=True)
        sys.exit(EXIT_CODES.get(exc.error_kind, 1))
    except Exception as exc:
        if _wants_traceback(sys.argv[1:] if argv is None else argv):
            raise
        click.echo(
            f"error[internal]: {type(exc).__name__}: {exc} (--trace debug shows the traceback)",
            err=True,
        )
        sys.exit(1)


def _wants_traceback(argv: list[str]) -> bool:
    for i, word in enumerate(argv):
        level = word.partition("=")[2] if word.startswith("--trace=") else None
        if word == "--trace" and i + 1 < len(argv):
            level = argv[i + 1]
        if level in ("debug", "trace"):
            return True
    return False


if __name__ == "__main__":
    main()
