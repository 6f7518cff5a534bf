"""``llmspell model``: fetch and inspect the weights of the local model."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any, TypeVar

import click

from llmspell.core.errors import LlmspellError
from llmspell.providers import local, model_store

T = TypeVar("T")


def _run(fn: Callable[[], T]) -> T:
    """``fn()``, with an llmspell error shown as ``Error: Kind: message`` (exit status 1)."""
    try:
        return fn()
    except LlmspellError as exc:
        raise click.ClickException(exc.lua_message()) from None


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


@click.group("model")
def model() -> None:
    """Fetch and inspect local model weights (used by the 'local' provider)."""


@model.command("pull")
@click.argument("name")
def pull(name: str) -> None:
    """Fetch model NAME into the model store (verified by SHA-256)."""
    was_present = _run(lambda: model_store.is_present(name))
    path = _run(lambda: model_store.ensure_model(name))
    state = "already present" if was_present else "fetched"
    click.echo(f"{name}: {state}, {_mib(path.stat().st_size)} at {path}")


@model.command("list")
def list_models() -> None:
    """Known models, whether they are present, their size and path."""
    rows = [
        (m["name"], "yes" if m["present"] else "no", _mib(m["size_bytes"]), m["path"])
        for m in model_store.list_models()
    ]
    header = ("NAME", "PRESENT", "SIZE", "PATH")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


@model.command("info")
@click.argument("name")
def info(name: str) -> None:
    """Everything known about model NAME and how the local provider serves it."""
    data: dict[str, Any] = _run(lambda: model_store.describe(name))
    runtime = importlib.util.find_spec("xllamacpp") is not None
    lines = [
        ("name", data["name"]),
        ("description", data["description"]),
        ("license", data["license"]),
        ("source", data["source"]),
        ("file", data["file"]),
        ("path", data["path"]),
        (
            "present",
            "yes" if data["present"] else "no (fetched on first use, or: llmspell model pull)",
        ),
        ("size", f"{_mib(data['size_bytes'])} ({data['size_bytes']} bytes)"),
        ("sha256", data["sha256"]),
        ("trained context", f"{data['context_tokens']} tokens"),
        ("served context", f"{local.CONTEXT_TOKENS} tokens"),
        ("threads", f"{local.DEFAULT_THREADS} (default)"),
        ("runtime", "xllamacpp installed" if runtime else "missing: pip install 'llmspell[local]'"),
    ]
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        click.echo(f"{key.ljust(width)}  {value}")
