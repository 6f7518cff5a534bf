"""The built-in tools. Modules are imported only when ``builtin_tools()`` is called, and each
module imports its heavier libraries only when a tool runs."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ConfigError
from llmspell.tools.base import Tool

if TYPE_CHECKING:
    from llmspell.core.config import Config

BUILTIN_MODULES: tuple[str, ...] = (
    "base64_encoder",
    "calculator",
    "csv_analyzer",
    "data_validator",
    "datetime_handler",
    "diff_calculator",
    "environment_reader",
    "file_operations",
    "file_search",
    "hash_calculator",
    "http_requester",
    "json_processor",
    "process_executor",
    "system_monitor",
    "template_creator",
    "text_manipulator",
    "uuid_generator",
    "web_searcher",
)
"""One module per tool family, in ``llmspell/tools/builtin/``."""


def builtin_tool_classes() -> list[type[Tool]]:
    """The concrete ``Tool`` classes defined by the built-in modules, by name."""
    classes: list[type[Tool]] = []
    for module_name in BUILTIN_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        classes.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Tool)
            and obj.__module__ == module.__name__
            and not inspect.isabstract(obj)
        )
    return sorted(classes, key=lambda cls: cls.name)


def builtin_tools(config: Config | None = None) -> list[Tool]:
    """One instance of each built-in tool; ``[tools.<name>]`` tables of ``config`` are passed
    to the tool's constructor as options (e.g. ``[tools.web-searcher] backend = "brave"``)."""
    settings = config.tools if config is not None else {}
    tools = []
    for cls in builtin_tool_classes():
        options = settings.get(cls.name, {})
        if not isinstance(options, Mapping):
            raise ConfigError(f"'tools.{cls.name}' must be a table of options")
        tools.append(_instantiate(cls, dict(options)))
    return tools


def _instantiate(cls: type[Tool], options: dict[str, Any]) -> Tool:
    if not options:
        return cls()
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        known = ", ".join(sorted(accepted)) or "none"
        raise ConfigError(
            f"unknown option 'tools.{cls.name}.{unknown[0]}' (known options: {known})"
        )
    try:
        return cls(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"'tools.{cls.name}': invalid options: {exc}") from None
