"""``Provider``: the LLM providers a script can use, as the configuration describes them.

Nothing is built or contacted: the descriptions come from the configuration, the environment's
API keys and the backends' known capabilities. A provider is named by its name (``openai``), or
by the three-part ``<backend>/<provider>/<model>`` name ``Provider.list()`` gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ValidationError

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.providers.registry import ProviderRegistry


class RunProviders:
    def __init__(self, bridge: Bridge) -> None:
        self._services = bridge.services

    @property
    def registry(self) -> ProviderRegistry:
        registry: ProviderRegistry = self._services.providers
        return registry

    def list_providers(self) -> list[dict[str, Any]]:
        return self.registry.list_providers()

    def get(self, name: Any) -> dict[str, Any] | None:
        provider, model = self._split(name, "Provider.get")
        entry = self.registry.entry(provider)
        if entry is None:
            return None
        info = self.registry.describe(entry)
        if model:
            info["model"] = model
            info["name"] = entry.display_name(model)
        return info

    def capabilities(self, name: Any) -> dict[str, Any] | None:
        info = self.get(name)
        return None if info is None else info["capabilities"]

    def is_available(self, name: Any) -> bool:
        provider, _ = self._split(name, "Provider.isAvailable")
        return self.registry.is_available(provider)

    def _split(self, name: Any, where: str) -> tuple[str, str | None]:
        """``(provider, model)`` of ``provider``, ``provider/model`` or
        ``backend/provider/model`` (the backend must match the provider's)."""
        if not isinstance(name, str) or not name:
            raise ValidationError(f"{where}: expected a provider name, got {name!r}")
        if self.registry.entry(name) is not None or "/" not in name:
            return name, None
        head, rest = name.split("/", 1)
        entry = self.registry.entry(head)
        if entry is not None:
            return head, rest or None
        if "/" in rest:
            provider, model = rest.split("/", 1)
            entry = self.registry.entry(provider)
            if entry is not None and entry.backend == head:
                return provider, model or None
        return name, None


def install(bridge: Bridge) -> None:
    providers = RunProviders(bridge)
    list_fn = bridge.sync(providers.list_providers, "Provider.list")
    get = bridge.sync(providers.get, "Provider.get")
    capabilities = bridge.sync(providers.capabilities, "Provider.getCapabilities")
    available = bridge.sync(providers.is_available, "Provider.isAvailable")
    bridge.define_global(
        "Provider",
        {
            "list": list_fn,
            "get": get,
            "getCapabilities": capabilities,
            "get_capabilities": capabilities,
            "isAvailable": available,
            "is_available": available,
        },
    )
