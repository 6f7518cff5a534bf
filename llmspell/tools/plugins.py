"""Tools and providers from installed packages, through entry points.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."llmspell.tools"]
    weather = "my_pkg.tools:weather"          # a Tool subclass or instance, a function,
                                               # or a list of those
    [project.entry-points."llmspell.providers"]
    my-llm = "my_pkg.provider:MyProvider"      # what the provider layer accepts

Each loaded item remembers its source, ``plugin:<distribution>``, which ``llmspell tool list``
shows. A plugin that fails to load is reported, not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from llmspell.tools.base import Tool
from llmspell.tools.python_tools import to_tool

TOOLS_GROUP = "llmspell.tools"
PROVIDERS_GROUP = "llmspell.providers"


@dataclass
class LoadedTools:
    """Tools with their source, and one message per entry point that failed."""

    tools: list[tuple[Tool, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class ProviderPlugin:
    """A provider entry point: its name, the loaded object and where it came from."""

    name: str
    factory: Any
    source: str


@dataclass
class LoadedProviders:
    providers: list[ProviderPlugin] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def plugin_source(entry_point: metadata.EntryPoint) -> str:
    """``plugin:<distribution>`` (or the entry point's target when no distribution is known)."""
    dist = entry_point.dist
    return f"plugin:{dist.name}" if dist is not None else f"plugin:{entry_point.value}"


def load_tool_plugins() -> LoadedTools:
    """Every tool declared in the ``llmspell.tools`` entry-point group."""
    loaded = LoadedTools()
    for entry_point in metadata.entry_points(group=TOOLS_GROUP):
        source = plugin_source(entry_point)
        try:
            obj = entry_point.load()
            items = obj if isinstance(obj, list | tuple) else [obj]
            loaded.tools.extend((to_tool(item), source) for item in items)
        except Exception as exc:
            loaded.errors.append(_failure(entry_point, source, exc))
    return loaded


def load_provider_plugins() -> LoadedProviders:
    """Every provider declared in the ``llmspell.providers`` entry-point group."""
    loaded = LoadedProviders()
    for entry_point in metadata.entry_points(group=PROVIDERS_GROUP):
        source = plugin_source(entry_point)
        try:
            loaded.providers.append(ProviderPlugin(entry_point.name, entry_point.load(), source))
        except Exception as exc:
            loaded.errors.append(_failure(entry_point, source, exc))
    return loaded


def _failure(entry_point: metadata.EntryPoint, source: str, exc: Exception) -> str:
    return (
        f"{source}: entry point '{entry_point.name}' ({entry_point.value}) in group "
        f"'{entry_point.group}' failed to load: {type(exc).__name__}: {exc}"
    )
