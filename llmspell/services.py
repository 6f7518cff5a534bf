"""The domain services a run can reach, built lazily so a script pays only for what it uses."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from llmspell.core.config import Config

if TYPE_CHECKING:
    from llmspell.state.store import Store
    from llmspell.tools.permissions import PermissionPolicy
    from llmspell.tools.registry import ToolRegistry


class Services:
    """One per ``Host``: configuration and the registries and stores built from it."""

    def __init__(self, config: Config) -> None:
        self.config = config

    @cached_property
    def permissions(self) -> PermissionPolicy:
        from llmspell.tools.permissions import PermissionPolicy

        return PermissionPolicy.from_config(self.config)

    @cached_property
    def tools(self) -> ToolRegistry:
        """The host's tools: built-ins, plugins, configured MCP servers, registered Python tools."""
        from llmspell.tools.registry import ToolRegistry

        return ToolRegistry.from_config(self.config)

    @cached_property
    def store(self) -> Store:
        """The store of State, sessions, runs, checkpoints and the audit log ([storage])."""
        from llmspell.state.store import open_store

        return open_store(self.config)
