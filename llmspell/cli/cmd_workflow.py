"""``llmspell workflow run | validate``: workflow files (TOML, YAML or JSON).

Tool steps run through the configured tool registry and permission policy, as
``llmspell tool invoke`` does; ``{{state.<key>}}`` reads the ``global`` state scope.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from llmspell.cli.cmd_tool import _config_path, _fail, _json_output, terminal_approver
from llmspell.core.config import Config, load_config
from llmspell.core.errors import EXIT_CODES, LlmspellError
from llmspell.tools.permissions import PermissionPolicy, deny_all
from llmspell.tools.registry import ToolRegistry
from llmspell_utils import jsonutil

if TYPE_CHECKING:
    from tqdm import tqdm

    from llmspell.state.store import Store
    from llmspell.workflows.model import Workflow

STATUS_EXIT = {
    "completed": 0,
    "failed": EXIT_CODES["runtime"],
    "timed_out": EXIT_CODES["timeout"],
    "cancelled": EXIT_CODES["cancelled"],
}


@click.group("workflow")
def workflow() -> None:
    """Run and check workflow files (TOML, YAML or JSON)."""


@workflow.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--input", "input_json", help="The workflow input, as JSON.")
@click.option("--progress", is_flag=True, help="Show a progress bar of the steps on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def run(file: str, input_json: str | None, progress: bool, as_json: bool) -> None:
    """Run the workflow in FILE and print its summary and final output."""
    workflow_input = _parse_input(input_json)
    definition = _load(file)
    try:
        result = asyncio.run(_execute(definition, workflow_input, progress))
    except LlmspellError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        click.echo("cancelled", err=True)
        raise click.exceptions.Exit(EXIT_CODES["cancelled"]) from None
    if _json_output(as_json):
        click.echo(jsonutil.dumps(result, pretty=True))
    else:
        _render(result)
    raise click.exceptions.Exit(STATUS_EXIT[result["metadata"]["status"]])


@workflow.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def validate(file: str) -> None:
    """Check FILE against the workflow schema and the configured tools."""
    from llmspell.workflows.tool_services import unknown_tools

    definition = _load(file)
    try:
        problems = unknown_tools(definition, ToolRegistry.from_config(load_config(_config_path())))
    except LlmspellError as exc:
        raise _fail(exc) from None
    for problem in problems:
        click.echo(f"Error: ToolNotFound: {file}: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    count = len(definition.all_steps())
    click.echo(f"{file}: ok ({definition.type} workflow '{definition.name}', {count} steps)")


def _load(file: str) -> Workflow:
    from llmspell.workflows.files import load_workflow_file

    try:
        return load_workflow_file(file)
    except LlmspellError as exc:
        raise _fail(exc) from None


async def _execute(definition: Workflow, workflow_input: Any, progress: bool) -> dict[str, Any]:
    from llmspell.workflows.tool_services import ToolRegistryServices

    config = load_config(_config_path())
    registry = ToolRegistry.from_config(config)
    approver = terminal_approver if sys.stdin.isatty() else deny_all
    policy = PermissionPolicy.from_config(config, approver=approver)
    state = _LazyState(config)
    bar = _progress_bar(definition) if progress else None
    services = ToolRegistryServices(
        registry,
        policy,
        read_state=state.get,
        on_event=_progress_updater(definition, bar) if bar is not None else None,
    )
    try:
        return await definition.execute(workflow_input, services)
    finally:
        await registry.close()
        state.close()
        if bar is not None:
            bar.close()


class _LazyState:
    """The ``global`` state scope, opened only when a step reads ``{{state.<key>}}``."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._store: Store | None = None

    def get(self, key: str) -> Any:
        from llmspell.state.state import StateStore
        from llmspell.state.store import open_store

        if self._store is None:
            self._store = open_store(self._config)
        return StateStore(self._store).load("global", key)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _progress_bar(definition: Workflow) -> tqdm[Any]:
    from tqdm import tqdm

    known = definition.type in ("sequential", "parallel")
    return tqdm(
        total=len(definition.all_steps()) if known else None,
        desc=definition.name,
        unit="step",
        file=sys.stderr,
        leave=False,
    )


def _progress_updater(
    definition: Workflow, bar: tqdm[Any]
) -> Callable[[str, dict[str, Any]], None]:
    """Advance ``bar`` for each finished step of the top-level workflow."""

    def update(event: str, data: dict[str, Any]) -> None:
        finished = event in ("workflow.step.completed", "workflow.step.failed")
        if finished and data.get("workflow_id") == definition.id:
            bar.set_postfix_str(str(data.get("step")), refresh=False)
            bar.update(1)

    return update


def _render(result: dict[str, Any]) -> None:
    click.echo(result["text"])
    width = max((len(record["name"]) for record in result["steps"]), default=0)
    for record in result["steps"]:
        mark = "ok" if record["success"] else "FAILED"
        line = f"  {mark:<6} {record['name']:<{width}}  {record['duration_ms']:8.1f} ms"
        if record.get("iteration") is not None:
            line += f"  (iteration {record['iteration']})"
        if record["attempts"] > 1:
            line += f"  ({record['attempts']} attempts)"
        if record.get("error"):
            line += f"  {record['error']}"
        click.echo(line)
    final = result["final"]
    if isinstance(final, dict) and isinstance(final.get("text"), str):
        click.echo(final["text"])
    elif final is not None:
        click.echo(jsonutil.dumps(final, pretty=True))


def _parse_input(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return jsonutil.loads(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--input") from None
