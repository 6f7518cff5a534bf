"""``llmspell config init|show|validate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from llmspell.core.config import discover_config_file, load_config
from llmspell.core.errors import EXIT_CODES, ConfigError

TEMPLATE = """\
# llmspell configuration. Every key is optional; the values shown are the defaults.
# Environment variables override it: LLMSPELL_<SECTION>__<KEY>
# (e.g. LLMSPELL_RUNTIME__CPU_SECONDS=5).

# default_provider = "local"

[runtime]
cpu_seconds = 30.0        # CPU time a script may spend in Lua
wall_seconds = 300.0      # wall-clock time of a whole run, waits included
memory_mb = 64.0          # memory of the Lua VM
output_bytes = 1048576    # print / io.write / Debug output
isolation = "in-process"  # or "process"
library_paths = []        # extra folders searched by require

[security]
mode = "auto"             # auto | strict | dry-run
file_read_roots = []      # folders tools may read
file_write_roots = []     # folders tools may write
network_allow = []        # hosts tools may reach (globs)
network_deny = []
allow_private_network = false
process_allow = []        # executables process-executor may run
env_allow = []            # environment variables scripts may read

[storage]
backend = "sqlite"        # or "memory"
# path = "/path/to/llmspell.db"

# [providers.openai]
# provider_type = "openai"
# api_key_env = "OPENAI_API_KEY"
# default_model = "gpt-4o-mini"
"""


def _config_path(ctx: click.Context) -> str | None:
    obj: dict[str, Any] = ctx.find_root().obj or {}
    return obj.get("config_path")


@click.group()
def config() -> None:
    """Create, show and check configuration files."""


@config.command()
@click.option("--path", default="llmspell.toml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented configuration file with the defaults."""
    from llmspell_utils.fs import atomic_write

    target = Path(path)
    if target.exists() and not force:
        click.echo(f"error[config]: {target} exists (use --force to overwrite)", err=True)
        sys.exit(EXIT_CODES["config"])
    atomic_write(target, TEMPLATE)
    click.echo(f"wrote {target}")


@config.command()
@click.option(
    "--format", "fmt", type=click.Choice(["toml", "json"]), default="toml", show_default=True
)
@click.pass_context
def show(ctx: click.Context, fmt: str) -> None:
    """Show the effective configuration (secrets redacted)."""
    from llmspell_utils.jsonutil import dump_toml

    cfg = load_config(_config_path(ctx))
    data = cfg.to_dict(redact=True)
    if fmt == "json":
        click.echo(json.dumps({"source": cfg.source, "config": data}, indent=2))
    else:
        click.echo(f"# source: {cfg.source or '(defaults)'}")
        click.echo(dump_toml(data))


@config.command(name="validate")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def validate_config(ctx: click.Context, path: str | None) -> None:
    """Check a configuration file (default: the discovered one)."""
    try:
        source = path or _config_path(ctx) or discover_config_file()
        cfg = load_config(source, discover=False)
    except ConfigError as exc:
        click.echo(f"error[config]: {exc}", err=True)
        sys.exit(EXIT_CODES["config"])
    click.echo(f"{cfg.source or '(defaults)'}: configuration ok")
