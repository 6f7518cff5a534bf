"""``llmspell mock-server``: a local OpenAI-compatible server answering from a script."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import click


def _load_script(path: Path) -> dict[str, Any]:
    """A script file: TOML or JSON with ``replies = [...]`` and optionally ``echo``."""
    from llmspell.core.errors import ConfigError

    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import tomllib

            data = tomllib.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: cannot parse the script: {exc}") from None
    if isinstance(data, list):
        data = {"replies": data}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the script must be a table with 'replies' or a list")
    return data


@click.command(name="mock-server")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8089,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--script",
    "script_path",
    type=click.Path(exists=True, dir_okay=False),
    help="TOML or JSON file with replies = [...] (scripted steps).",
)
@click.option(
    "--echo/--no-echo",
    default=None,
    help="Answer with the last user message once the script is used up "
    "(default: on when there is no script).",
)
@click.option("--api-key", help="Require this bearer token (others get HTTP 401).")
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Accept only these model names (others get 404); repeatable.",
)
def mock_server(
    port: int,
    script_path: str | None,
    echo: bool | None,
    api_key: str | None,
    models: tuple[str, ...],
) -> None:
    """Serve /v1/chat/completions (streaming and not) and /v1/models until Ctrl+C."""
    from llmspell.providers.mock_server import MockServer
    from llmspell.providers.scripted import ScriptedProvider

    options = _load_script(Path(script_path)) if script_path else {}
    if echo is not None:
        options["echo"] = echo
    provider = ScriptedProvider.from_options("mock", options)
    server = MockServer(provider, port=port, api_key=api_key, models=list(models) or None)
    server.start()
    click.echo(f"mock server listening on {server.base_url} (Ctrl+C to stop)", err=True)
    click.echo(server.base_url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
