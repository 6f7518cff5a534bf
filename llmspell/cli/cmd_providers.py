"""``llmspell providers [--detailed]``: the providers a script can use, and the default one."""

from __future__ import annotations

import json
from typing import Any

import click

from llmspell.core.config import load_config


def _root_obj(ctx: click.Context) -> dict[str, Any]:
    obj: dict[str, Any] = ctx.find_root().obj or {}
    return obj


@click.command()
@click.option("--detailed", is_flag=True, help="Show capabilities, endpoints and key variables.")
@click.pass_context
def providers(ctx: click.Context, detailed: bool) -> None:
    """List configured providers, those found through API keys, and the local model."""
    from llmspell.core.errors import ConfigError
    from llmspell.providers.registry import ProviderRegistry

    obj = _root_obj(ctx)
    registry = ProviderRegistry(load_config(obj.get("config_path")))
    rows = registry.list_providers()
    if detailed:
        for row, entry in zip(rows, registry.entries(), strict=True):
            row["key_env"] = list(entry.key_env)
            row["timeout"] = entry.timeout
            row["max_retries"] = entry.max_retries
    if obj.get("output") == "json":
        click.echo(json.dumps({"providers": rows}, ensure_ascii=False))
        return
    if not rows:
        try:
            registry.default_entry()
        except ConfigError as exc:
            click.echo(str(exc))
        return
    for row in rows:
        mark = "*" if row["default"] else " "
        state = "" if row["enabled"] else "  (no API key)"
        click.echo(f"{mark} {row['name']}  [{row['source']}]{state}")
        if detailed:
            caps = row["capabilities"]
            facts = {
                "backend": row["backend"],
                "type": row["provider_type"],
                "base_url": row["base_url"],
                "key variable": ", ".join(row["key_env"]) or None,
                "streaming": caps["supports_streaming"],
                "tools": caps["supports_tools"],
                "vision": caps["supports_multimodal"],
                "context tokens": caps["max_context_tokens"],
                "models": ", ".join(caps["available_models"]) or None,
                "fallbacks": ", ".join(row["fallbacks"]) or None,
                "timeout": f"{row['timeout']:g} s, {row['max_retries']} retries",
            }
            for key, value in facts.items():
                if value is not None:
                    click.echo(f"      {key}: {_text(value)}")
    click.echo("(* = used when a script names no provider)")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
