"""``llmspell tool list | info | invoke``: the registered tools, under the configured policy.

``invoke`` runs a tool exactly as a script's ``Tool.execute`` would: same registry, same
permissions, same modes. On a terminal an ``ask`` rule (or ``--mode strict``) prompts
yes / no / always; without a terminal it means no.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

import click

from llmspell.core.config import Config, load_config
from llmspell.core.errors import LlmspellError, exit_code_for
from llmspell.tools.base import Mode
from llmspell.tools.permissions import PermissionPolicy, deny_all
from llmspell.tools.registry import ToolRegistry
from llmspell_utils import jsonutil

T = TypeVar("T")
MODES = ("auto", "strict", "dry-run")


def _config_path() -> str | None:
    obj = click.get_current_context().obj
    return obj.get("config_path") if isinstance(obj, dict) else None


def _json_output(as_json: bool) -> bool:
    obj = click.get_current_context().obj
    return as_json or (isinstance(obj, dict) and obj.get("output") == "json")


def _fail(exc: LlmspellError) -> click.exceptions.Exit:
    click.echo(f"Error: {exc.lua_message()}", err=True)
    return click.exceptions.Exit(exit_code_for(exc.error_kind))


def _run(main: Callable[[ToolRegistry, Config], Coroutine[Any, Any, T]]) -> T:
    """Build the registry from the configuration, run ``main`` with it, stop MCP servers."""

    async def wrapped() -> T:
        config = load_config(_config_path())
        registry = ToolRegistry.from_config(config)
        try:
            return await main(registry, config)
        finally:
            await registry.close()

    try:
        return asyncio.run(wrapped())
    except LlmspellError as exc:
        raise _fail(exc) from None


async def terminal_approver(tool: str, params: dict[str, Any], reason: str) -> str:
    """Ask on the terminal: yes / no / always (for the rest of this command)."""
    click.echo(f"{tool} wants to run with {jsonutil.dumps(params)}", err=True)
    click.echo(f"  asked because: {reason}", err=True)
    answer: str = await asyncio.to_thread(
        click.prompt,
        "Allow? [y]es / [n]o / [a]lways",
        type=click.Choice(["y", "yes", "n", "no", "a", "always"]),
        default="n",
        show_choices=False,
        err=True,
    )
    return {"y": "yes", "a": "always", "n": "no"}.get(answer, answer)


@click.group("tool")
def tool() -> None:
    """List, describe and run tools."""


@tool.command("list")
@click.option("--category", help="Only tools of this category.")
@click.option("--tag", help="Only tools with this tag.")
@click.option("--mcp/--no-mcp", default=True, help="Start configured MCP servers to list theirs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_tools(category: str | None, tag: str | None, mcp: bool, as_json: bool) -> None:
    """List tools with their category and where they come from."""

    async def main(
        registry: ToolRegistry, config: Config
    ) -> tuple[list[dict[str, Any]], list[str]]:
        problems = list(registry.plugin_errors)
        if mcp and registry.mcp is not None:
            for server in registry.mcp.server_names:
                try:
                    await registry.load_mcp_server(server)
                except LlmspellError as exc:
                    problems.append(str(exc))
        return registry.list(category, tag), problems

    tools, problems = _run(main)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if _json_output(as_json):
        click.echo(jsonutil.dumps(tools, pretty=True))
        return
    if not tools:
        click.echo("no tools")
        return
    width = max(len(t["name"]) for t in tools)
    for info in tools:
        click.echo(
            f"{info['name']:<{width}}  {info['category']:<10}  {info['security_level']:<10}  "
            f"{info['source']}"
        )


@tool.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str, as_json: bool) -> None:
    """Describe a tool and its parameters."""

    async def main(registry: ToolRegistry, config: Config) -> dict[str, Any]:
        await registry.resolve(name)
        return registry.info(name)

    data = _run(main)
    if _json_output(as_json):
        click.echo(jsonutil.dumps(data, pretty=True))
        return
    click.echo(f"{data['name']} {data['version']} ({data['category']}, {data['security_level']})")
    click.echo(f"source: {data['source']}")
    click.echo(data["description"])
    schema = data["schema"]
    required = set(schema.get("required", []))
    if schema.get("properties"):
        click.echo("parameters:")
    for param, spec in schema.get("properties", {}).items():
        kind = spec.get("type", "any")
        kind = "|".join(kind) if isinstance(kind, list) else kind
        if "enum" in spec:
            kind = " | ".join(str(v) for v in spec["enum"])
        flag = " (required)" if param in required else ""
        text = f" - {spec['description']}" if spec.get("description") else ""
        click.echo(f"  {param}: {kind}{flag}{text}")


@tool.command("invoke")
@click.argument("name")
@click.option("--params", "params_json", default="{}", help="Parameters as a JSON object.")
@click.option(
    "--mode", type=click.Choice(MODES), help="Permission mode (default: [security] mode)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def invoke(name: str, params_json: str, mode: str | None, as_json: bool) -> None:
    """Run a tool once with --params '{...}' under the configured permissions."""
    try:
        params = jsonutil.loads(params_json)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--params") from None
    if not isinstance(params, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--params")
    approver = terminal_approver if sys.stdin.isatty() else deny_all
    chosen = cast(Mode | None, mode)

    async def main(registry: ToolRegistry, config: Config) -> dict[str, Any]:
        policy = PermissionPolicy.from_config(config, mode=chosen, approver=approver)
        result = await registry.execute(name, params, policy.context())
        return result.to_dict()

    result = _run(main)
    if _json_output(as_json):
        click.echo(jsonutil.dumps(result, pretty=True))
    else:
        click.echo(result["text"] or "")
        if not result["success"]:
            click.echo(f"error: {result.get('message') or 'the tool reported failure'}", err=True)
    if not result["success"]:
        raise click.exceptions.Exit(1)
