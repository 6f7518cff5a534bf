"""The domain services a run can reach, built lazily so a script pays only for what it uses."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from llmspell.core.config import Config

if TYPE_CHECKING:
    from llmspell.events import EventBus, HookRegistry
    from llmspell.providers.cache import ResponseCache
    from llmspell.providers.registry import ProviderRegistry
    from llmspell.state.artifacts import ArtifactStore
    from llmspell.state.runs import RunStore
    from llmspell.state.sessions import SessionStore
    from llmspell.state.state import StateStore
    from llmspell.state.store import Store
    from llmspell.tools.permissions import PermissionPolicy
    from llmspell.tools.registry import ToolRegistry


class Services:
    """One per ``Host``: configuration and the registries and stores built from it."""

    def __init__(self, config: Config) -> None:
        self.config = config

    @cached_property
    def events(self) -> EventBus:
        """The host's event bus: every run's events reach its subscribers."""
        from llmspell.events import EventBus

        return EventBus()

    @cached_property
    def hooks(self) -> HookRegistry:
        """The host's hooks (``Host.register_hook``); they fire in every run, with its own."""
        from llmspell.events import HookRegistry

        return HookRegistry.from_config(self.config, events=self.events)

    @cached_property
    def response_cache(self) -> ResponseCache:
        """Cached model responses in the store, valid ``[storage] cache_ttl`` seconds."""
        from llmspell.providers.cache import ResponseCache

        return ResponseCache(self.store, ttl=self.config.storage.cache_ttl)

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
    def providers(self) -> ProviderRegistry:
        """The providers of the configuration, plus those registered from Python; each run
        builds its instances on a ``child()`` of it and closes them when it ends."""
        from llmspell.providers.registry import ProviderRegistry

        return ProviderRegistry(self.config)

    @cached_property
    def store(self) -> Store:
        """The store of State, sessions, runs, checkpoints and the audit log ([storage])."""
        from llmspell.state.store import open_store

        return open_store(self.config)

    @cached_property
    def state(self) -> StateStore:
        from llmspell.state.state import StateStore

        return StateStore(self.store)

    @cached_property
    def sessions(self) -> SessionStore:
        from llmspell.state.sessions import SessionStore

        return SessionStore(self.store)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        from llmspell.state.artifacts import ArtifactStore

        return ArtifactStore(self.store)

    @cached_property
    def runs(self) -> RunStore:
        from llmspell.state.runs import RunStore

        return RunStore(self.store)
