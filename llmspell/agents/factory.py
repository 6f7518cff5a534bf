"""``build_agent``: an ``Agent`` from its configuration, its provider found by the registry.

The provider and model come from ``ProviderRegistry.resolve(model, provider)`` (``"openai/gpt-4o"``,
a bare model on the default provider, or the provider's default model). An agent that sets its
own ``base_url`` or ``api_key`` gets a provider of its own for that endpoint or key; it closes
that provider in ``Agent.aclose``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmspell.agents.agent import Agent
from llmspell.agents.config import AgentConfig
from llmspell.core.errors import ValidationError

if TYPE_CHECKING:
    from llmspell.providers.base import Provider
    from llmspell.providers.registry import ProviderEntry, ProviderRegistry

_OVERRIDABLE = ("native", "litellm")


def build_agent(
    config: AgentConfig | Mapping[str, Any], providers: ProviderRegistry, **collaborators: Any
) -> Agent:
    """An agent for ``config`` (an ``AgentConfig`` or a table in any script spelling).

    ``collaborators`` are ``Agent``'s optional keyword arguments (``tools``, ``hooks`` ...).
    Raises ``ValidationError`` when no model can be resolved, ``ConfigError`` for an unknown
    provider or a missing API key.
    """
    if not isinstance(config, AgentConfig):
        config = AgentConfig.from_table(config)
    if config.base_url is None and config.api_key is None:
        provider, model = providers.resolve(config.model, config.provider)
        return Agent(config, provider, model=model, **collaborators)
    provider, model = _own_provider(config, providers)
    return Agent(config, provider, model=model, owns_provider=True, **collaborators)


def _own_provider(config: AgentConfig, providers: ProviderRegistry) -> tuple[Provider, str]:
    """A provider for the agent's own ``base_url`` / ``api_key``, and the model to use."""
    from llmspell.providers.registry import ProviderEntry, build_provider

    name, model = _split(config, providers)
    entry: ProviderEntry | None
    if name is not None:
        entry = providers.entry(name)
    elif config.base_url is not None:
        entry = None
    else:
        entry = providers.default_entry()
    if entry is None:
        if config.base_url is None:
            raise ValidationError(
                f"agent '{config.name}': unknown provider '{name}' (give base_url to use an "
                "OpenAI-compatible server under that name)"
            )
        entry = ProviderEntry(name or "openai", "native", "openai", "config")
    if entry.backend not in _OVERRIDABLE:
        raise ValidationError(
            f"agent '{config.name}': base_url and api_key cannot be set for provider "
            f"'{entry.name}' (a {entry.backend} provider)"
        )
    model = model or entry.default_model
    if not model:
        raise ValidationError(
            f"agent '{config.name}': no model for provider '{entry.name}': pass "
            f"model = '{entry.name}/<model>'"
        )
    entry = dataclasses.replace(
        entry,
        base_url=config.base_url or entry.base_url,
        api_key=config.api_key or entry.api_key,
        default_model=model,
        fallbacks=[],
    )
    if entry.backend == "native" and entry.base_url is None:
        raise ValidationError(f"agent '{config.name}': provider '{entry.name}' needs base_url")
    return build_provider(entry, {}), model


def _split(config: AgentConfig, providers: ProviderRegistry) -> tuple[str | None, str | None]:
    """``(provider, model)`` as ``ProviderRegistry.resolve`` reads them; ``None`` provider is
    the default one."""
    spec = config.model
    if config.provider is not None:
        return config.provider, spec
    if spec is not None and "/" in spec:
        head, rest = spec.split("/", 1)
        if providers.known(head):
            return head, rest
    return None, spec
