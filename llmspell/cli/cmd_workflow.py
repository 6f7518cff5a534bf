"""``llmspell workflow run | validate``: workflow files (TOML, YAML or JSON).

Tool steps run through the configured tool registry and permission policy, as
``llmspell tool invoke`` does; ``{{state.<key>}}`` reads the ``global`` state scope. Each run
gets a run record, its definition and a checkpoint after each step in the store, so
``llmspell runs resume ID`` can continue it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from llmspell.cli.cmd_tool import _config_path, _fail, _json_output, terminal_approver
from llmspell.core.config import load_config
from llmspell.core.errors import EXIT_CODES, LlmspellError
from llmspell.tools.permissions import PermissionPolicy, deny_all
from llmspell.tools.registry import ToolRegistry
from llmspell_utils import jsonutil

if TYPE_CHECKING:
    from tqdm import tqdm

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
    from llmspell.workflows.files import read_workflow_data, workflow_from_file_data

    workflow_input = _parse_input(input_json)
    try:
        data = read_workflow_data(Path(file))
        definition = workflow_from_file_data(Path(file), data)
        result = asyncio.run(_execute(definition, data, workflow_input, progress, file))
    except LlmspellError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        click.echo("cancelled", err=True)
        raise click.exceptions.Exit(EXIT_CODES["cancelled"]) from None
    show_result(result, as_json)


def show_result(result: dict[str, Any], as_json: bool) -> None:
    """Print a workflow result (summary, steps, final output; or JSON) and exit with its
    status."""
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


async def _execute(
    definition: Workflow, data: dict[str, Any], workflow_input: Any, progress: bool, file: str
) -> dict[str, Any]:
    from llmspell.state.store import open_store
    from llmspell.workflows.persistence import WorkflowRunStore
    from llmspell.workflows.resume import store_services
    from llmspell_utils.ids import new_id

    config = load_config(_config_path())
    approver = terminal_approver if sys.stdin.isatty() else deny_all
    policy = PermissionPolicy.from_config(config, approver=approver)
    bar = _progress_bar(definition) if progress else None
    with open_store(config) as store:
        records = WorkflowRunStore(store)
        services = store_services(
            store,
            config,
            policy=policy,
            on_event=_progress_updater(definition, bar) if bar is not None else None,
            records=records,
        )
        try:
            return await records.execute(
                definition,
                workflow_input,
                services,
                new_id("run"),
                script=file,
                definition=data,
                warn=lambda message: click.echo(f"warning: {message}", err=True),
            )
        finally:
            await services.registry.close()
            if bar is not None:
                bar.close()


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
    run_id = result["metadata"].get("run_id")
    if run_id is not None and not result["success"]:
        click.echo(f"resume with: llmspell runs resume {run_id}", err=True)


def _parse_input(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return jsonutil.loads(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--input") from None
