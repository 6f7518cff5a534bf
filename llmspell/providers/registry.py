"""Which provider and model a call uses: ``ProviderRegistry``.

Resolution of ``resolve(model_spec, provider)``:
1. an explicit provider (the ``provider`` argument, or the head of ``"provider/model"`` when it
   names one): a ``[providers.<name>]`` table, a provider registered from Python, a preset
   (openai, ollama, vllm, llamacpp, lmstudio, groq, openrouter, together, deepseek, xai), a
   litellm provider (anthropic, gemini, mistral, bedrock...), ``local`` or ``scripted``;
2. else the configured ``default_provider`` (or the only configured provider);
3. else the first API key found in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY,
   GEMINI_API_KEY, GROQ_API_KEY, ...);
4. else the local model, when ``llmspell[local]`` is installed;
5. else a ``ConfigError`` saying what to set or install.

This module is on the startup path: it imports neither litellm, openai, httpx nor pydantic at
the top; each backend's modules load when a provider of that backend is first built.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llmspell.core.config import Config, ProviderConfig
from llmspell.core.errors import ConfigError, ValidationError
from llmspell.providers.presets import (
    ENV_KEY_ORDER,
    LITELLM_DEFAULTS,
    NATIVE_PRESETS,
    Preset,
    find_preset,
)

if TYPE_CHECKING:
    from llmspell.core.types import Capabilities
    from llmspell.providers.base import Provider

Backend = Literal["native", "litellm", "scripted", "local", "python"]
Source = Literal["config", "registered", "environment", "preset", "litellm", "local"]

LOCAL_MODULE = "llmspell.providers.local"
LOCAL_NAME = "local"
LOCAL_DEFAULT_MODEL = "smollm2"
NATIVE_TYPES = ("openai", "openai_compat", "openai-compatible", "native")
COMMON_OPTIONS = (
    "retry_base_delay",
    "retry_max_delay",
    "breaker_threshold",
    "breaker_cooldown",
    "streaming",
    "tools",
    "vision",
    "max_context_tokens",
    "models",
)
"""``options`` keys every backend understands (retry, breaker and capability overrides)."""


@dataclass
class ProviderEntry:
    """A provider as configuration and environment describe it, before it is built."""

    name: str
    backend: Backend
    provider_type: str
    source: Source
    default_model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    key_env: tuple[str, ...] = ()
    key_required: bool = False
    timeout: float = 60.0
    max_retries: int = 3
    fallbacks: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    preset: Preset | None = None

    @property
    def enabled(self) -> bool:
        """Usable as configured: has its API key when it needs one."""
        return bool(self.api_key) or not self.key_required

    def display_name(self, model: str | None = None) -> str:
        """``<backend>/<provider>/<model>``, the three-part name scripts split on ``/``."""
        return f"{self.backend}/{self.name}/{model or self.default_model or ''}"


class ProviderRegistry:
    """Builds providers from configuration and picks one for each call.

    Providers are built once per name and reused (they hold connection pools); ``aclose``
    releases them. ``register`` adds a provider built in Python (e.g. a ``ScriptedProvider``).
    """

    def __init__(
        self, config: Config | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self.config = config or Config()
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._registered: dict[str, tuple[Provider, str | None]] = {}
        self._instances: dict[str, Provider] = {}
        self._wrapped: dict[str, Provider] = {}

    # --- describing -----------------------------------------------------------------------

    def register(self, name: str, provider: Provider, default_model: str | None = None) -> None:
        """Make ``provider`` available as ``name`` (replacing any provider of that name)."""
        self._registered[name] = (provider, default_model)
        self._instances.pop(name, None)
        self._wrapped.pop(name, None)

    def child(self) -> ProviderRegistry:
        """A registry with this one's configuration and registered providers that builds its
        own instances (e.g. those of one script run, released by its ``aclose``)."""
        other = ProviderRegistry(self.config, environ=self._environ)
        other._registered = dict(self._registered)
        return other

    def entry(self, name: str) -> ProviderEntry | None:
        """How ``name`` would be built, or ``None`` when nothing by that name is known."""
        configured = self.config.providers.get(name)
        if configured is not None:
            return self._configured_entry(name, configured)
        if name in self._registered:
            provider, model = self._registered[name]
            return ProviderEntry(
                name, "python", type(provider).__name__, "registered", default_model=model
            )
        preset = find_preset(name)
        if preset is not None:
            return self._preset_entry(name, preset, "preset")
        if name == LOCAL_NAME:
            return ProviderEntry(name, "local", "local", "local", LOCAL_DEFAULT_MODEL)
        if name == "scripted":
            return ProviderEntry(name, "scripted", "scripted", "preset", "scripted")
        if self._is_litellm_provider(name):
            return self._litellm_entry(name, name, "litellm")
        return None

    def _configured_entry(self, name: str, cfg: ProviderConfig) -> ProviderEntry:
        kind = cfg.provider_type
        where = f"providers.{name}"
        key_env: tuple[str, ...] = (cfg.api_key_env,) if cfg.api_key_env else ()
        preset = find_preset(kind)
        if kind == "scripted":
            entry = ProviderEntry(name, "scripted", kind, "config", cfg.default_model or "scripted")
        elif kind == LOCAL_NAME:
            entry = ProviderEntry(
                name, "local", kind, "config", cfg.default_model or LOCAL_DEFAULT_MODEL
            )
        elif kind in NATIVE_TYPES or preset is not None:
            base_url = cfg.base_url or (preset.base_url if preset else None)
            if base_url is None:
                raise ConfigError(
                    f"{where}: provider_type '{kind}' needs base_url (the server's "
                    "OpenAI-compatible URL, e.g. http://localhost:8000/v1)"
                )
            key_env = key_env or (preset.key_env if preset else ())
            entry = ProviderEntry(
                name,
                "native",
                kind,
                "config",
                cfg.default_model or (preset.default_model if preset else None),
                base_url=base_url,
                key_env=key_env,
                key_required=bool(preset and not preset.local and cfg.base_url is None),
                preset=preset,
            )
        else:
            options = cfg.options
            litellm_name = str(options.get("litellm_provider", kind if kind != "litellm" else ""))
            if not litellm_name:
                raise ConfigError(
                    f"{where}: provider_type 'litellm' needs options.litellm_provider"
                )
            if kind != "litellm" and not self._is_litellm_provider(kind):
                raise ConfigError(
                    f"{where}: unknown provider_type '{kind}' (use openai, a preset: "
                    f"{', '.join(NATIVE_PRESETS)}; a litellm provider such as anthropic or "
                    "gemini; local; or scripted)"
                )
            entry = self._litellm_entry(name, litellm_name, "config")
            entry.default_model = cfg.default_model or entry.default_model
            entry.base_url = cfg.base_url
            key_env = key_env or entry.key_env
        entry.key_env = key_env
        entry.api_key = cfg.api_key or self._env_key(key_env) or entry.api_key
        entry.timeout = cfg.timeout
        entry.max_retries = cfg.max_retries
        entry.fallbacks = list(cfg.fallbacks)
        entry.options = {k: v for k, v in cfg.options.items() if k != "litellm_provider"}
        return entry

    def _preset_entry(self, name: str, preset: Preset, source: Source) -> ProviderEntry:
        return ProviderEntry(
            name,
            "native",
            preset.name,
            source,
            preset.default_model,
            base_url=preset.base_url,
            api_key=self._env_key(preset.key_env),
            key_env=preset.key_env,
            key_required=not preset.local,
            preset=preset,
        )

    def _litellm_entry(self, name: str, litellm_name: str, source: Source) -> ProviderEntry:
        known = LITELLM_DEFAULTS.get(litellm_name)
        key_env = (known.key_env,) if known else ()
        return ProviderEntry(
            name,
            "litellm",
            litellm_name,
            source,
            known.default_model if known else None,
            api_key=self._env_key(key_env),
            key_env=key_env,
            key_required=bool(known),
        )

    def _env_key(self, names: tuple[str, ...]) -> str | None:
        for var in names:
            value = self._environ.get(var)
            if value:
                return value
        return None

    @staticmethod
    def _is_litellm_provider(name: str) -> bool:
        if name in LITELLM_DEFAULTS:
            return True
        from llmspell.providers.pricing import litellm_providers

        return name in litellm_providers()

    def known(self, name: str) -> bool:
        return self.entry(name) is not None

    # --- default provider -------------------------------------------------------------------

    def default_entry(self) -> ProviderEntry:
        """The provider used when a call names none (see the module docstring for the order)."""
        configured = self.config.default_provider
        if configured:
            entry = self.entry(configured)
            if entry is None:
                raise ConfigError(
                    f"default_provider '{configured}' is neither a [providers.{configured}] "
                    f"table nor a known provider ({', '.join(NATIVE_PRESETS)}, anthropic, "
                    "gemini, local, ...)"
                )
            return entry
        if len(self.config.providers) == 1:
            (only,) = self.config.providers
            return self._configured_entry(only, self.config.providers[only])
        for name in ENV_KEY_ORDER:
            entry = self.entry(name)
            if entry is not None and entry.api_key:
                entry.source = "environment"
                return entry
        if local_available():
            return ProviderEntry(LOCAL_NAME, "local", "local", "local", LOCAL_DEFAULT_MODEL)
        raise ConfigError(no_provider_message(bool(self.config.providers)))

    # --- building and resolving -------------------------------------------------------------

    def get(self, name: str) -> Provider:
        """The provider called ``name`` (with its configured fallbacks), built on first use."""
        wrapped = self._wrapped.get(name)
        if wrapped is not None:
            return wrapped
        entry = self._require(name)
        provider = self._instance(entry)
        if entry.fallbacks:
            from llmspell.providers.resilience import FallbackProvider

            chain = [self._fallback(spec, name) for spec in entry.fallbacks]
            provider = FallbackProvider(provider, chain)
        self._wrapped[name] = provider
        return provider

    def resolve(
        self, model_spec: str | None = None, provider: str | None = None
    ) -> tuple[Provider, str]:
        """The provider and model name for a call: ``("openai/gpt-4o")``, ``("gpt-4o",
        "openai")``, a bare model on the default provider, or nothing (all defaults)."""
        entry, model = self._choose(model_spec, provider)
        return self.get(entry.name), model

    def resolve_entry(
        self, model_spec: str | None = None, provider: str | None = None
    ) -> tuple[ProviderEntry, str]:
        """Like ``resolve`` without building the provider."""
        return self._choose(model_spec, provider)

    def _choose(self, model_spec: str | None, provider: str | None) -> tuple[ProviderEntry, str]:
        spec = (model_spec or "").strip() or None
        if provider:
            entry = self._require(provider)
            model = spec
        elif spec and "/" in spec and self.known(spec.split("/", 1)[0]):
            head, model = spec.split("/", 1)
            entry = self._require(head)
        else:
            entry = self.default_entry()
            model = spec
        model = model or entry.default_model
        if not model:
            raise ValidationError(
                f"no model for provider '{entry.name}': pass '{entry.name}/<model>' or set "
                f"default_model in [providers.{entry.name}]"
            )
        if entry.key_required and not entry.api_key:
            raise ConfigError(
                f"provider '{entry.name}' needs an API key: set "
                f"{' or '.join(entry.key_env) or 'api_key'} in the environment, or api_key_env "
                f"in [providers.{entry.name}]"
            )
        return entry, model

    def _require(self, name: str) -> ProviderEntry:
        entry = self.entry(name)
        if entry is None:
            raise ConfigError(
                f"unknown provider '{name}': add a [providers.{name}] table to llmspell.toml, or "
                f"use a known provider ({', '.join(NATIVE_PRESETS)}, anthropic, gemini, "
                "mistral, local, scripted)"
            )
        return entry

    def _fallback(self, spec: str, owner: str) -> tuple[Provider, str]:
        try:
            entry, model = self._choose(spec, None)
        except (ConfigError, ValidationError) as exc:
            raise ConfigError(f"providers.{owner}.fallbacks: '{spec}': {exc}") from None
        if entry.name == owner:
            raise ConfigError(f"providers.{owner}.fallbacks: '{spec}' names the provider itself")
        return self._instance(entry), model

    def _instance(self, entry: ProviderEntry) -> Provider:
        provider = self._instances.get(entry.name)
        if provider is None:
            provider = build_provider(entry, self._registered)
            self._instances[entry.name] = provider
        return provider

    # --- listing ----------------------------------------------------------------------------

    def entries(self) -> list[ProviderEntry]:
        """Configured and registered providers, then those found through API keys, then the
        local model when installed."""
        seen: dict[str, ProviderEntry] = {}
        for name in [*self.config.providers, *self._registered]:
            entry = self.entry(name)
            if entry is not None:
                seen.setdefault(name, entry)
        for name in ENV_KEY_ORDER:
            entry = self.entry(name)
            if name not in seen and entry is not None and entry.api_key:
                entry.source = "environment"
                seen[name] = entry
        if LOCAL_NAME not in seen and local_available():
            seen[LOCAL_NAME] = ProviderEntry(
                LOCAL_NAME, "local", "local", "local", LOCAL_DEFAULT_MODEL
            )
        return list(seen.values())

    def list_providers(self) -> list[dict[str, Any]]:
        """Plain data for ``Provider.list()``: one table per provider."""
        try:
            default = self.default_entry().name
        except ConfigError:
            default = None
        return [self.describe(e, default=e.name == default) for e in self.entries()]

    def describe(self, entry: ProviderEntry, *, default: bool = False) -> dict[str, Any]:
        caps = entry_capabilities(entry)
        return {
            "name": entry.display_name(),
            "provider": entry.name,
            "model": entry.default_model,
            "backend": entry.backend,
            "provider_type": entry.provider_type,
            "source": entry.source,
            "base_url": entry.base_url,
            "enabled": entry.enabled,
            "default": default,
            "fallbacks": list(entry.fallbacks),
            "capabilities": {
                "supports_streaming": caps.streaming,
                "supports_multimodal": caps.vision,
                "supports_tools": caps.tools,
                "max_context_tokens": caps.max_context_tokens,
                "available_models": list(caps.models),
            },
        }

    def info(self, name: str) -> dict[str, Any] | None:
        """``Provider.get(name)``: the description of one provider, ``None`` if unknown."""
        entry = self.entry(name)
        return None if entry is None else self.describe(entry)

    def is_available(self, name: str) -> bool:
        """``Provider.isAvailable(name)``: known and usable as configured (key present)."""
        entry = self.entry(name)
        if entry is None:
            return False
        if entry.backend == "local":
            return local_available()
        return entry.enabled

    async def aclose(self) -> None:
        """Close every provider built so far (providers registered from Python stay open:
        whoever registered them owns them)."""
        built = [p for n, p in self._instances.items() if n not in self._registered]
        self._instances.clear()
        self._wrapped.clear()
        for provider in built:
            await provider.aclose()


def local_available() -> bool:
    """Whether the local model backend is installed (its module decides; imported lazily)."""
    if importlib.util.find_spec(LOCAL_MODULE) is None:
        return False
    module = importlib.import_module(LOCAL_MODULE)
    return bool(module.is_available())


def no_provider_message(has_tables: bool) -> str:
    keys = ", ".join(
        (LITELLM_DEFAULTS[n].key_env if n in LITELLM_DEFAULTS else NATIVE_PRESETS[n].key_env[0])
        for n in ENV_KEY_ORDER[:4]
    )
    table_hint = (
        "set default_provider to one of your [providers.<name>] tables"
        if has_tables
        else 'add default_provider = "<name>" and a [providers.<name>] table to llmspell.toml'
    )
    return (
        f"no LLM provider is available: set an API key ({keys}, ...), or {table_hint}, or "
        "install the local model with: pip install 'llmspell[local]' && llmspell model pull "
        "smollm2"
    )


def entry_capabilities(entry: ProviderEntry) -> Capabilities:
    """Capabilities of a provider before it is built: backend defaults, price-table facts
    about its default model, then ``options`` overrides."""
    from llmspell.core.types import Capabilities

    models = [entry.default_model] if entry.default_model else []
    data: dict[str, Any] = {"streaming": True, "tools": True, "vision": False, "models": models}
    if entry.backend == "local":
        data.update(tools=False, max_context_tokens=_local_context_tokens())
    elif entry.backend == "scripted":
        data.update(vision=True)
    elif entry.preset is not None:
        data.update(tools=entry.preset.tools, vision=entry.preset.vision)
    if entry.backend in ("native", "litellm") and entry.default_model:
        info = _model_info(entry)
        if info is not None:
            data["max_context_tokens"] = info.max_input_tokens
            data["vision"] = data["vision"] or info.supports_vision
    for key in ("streaming", "tools", "vision", "max_context_tokens", "models"):
        if key in entry.options:
            data[key] = entry.options[key]
    import pydantic

    try:
        return Capabilities.model_validate(data)
    except pydantic.ValidationError as exc:
        from llmspell.core.types import validation_error

        raise ConfigError(str(validation_error(exc, f"providers.{entry.name}.options"))) from None


def _model_info(entry: ProviderEntry) -> Any:
    from llmspell.providers.pricing import model_info

    assert entry.default_model is not None
    prefix = entry.provider_type if entry.backend == "litellm" else None
    if entry.preset is not None:
        if entry.preset.local:
            return None
        prefix = entry.preset.price_prefix
    return model_info(entry.default_model, prefix)


def _local_context_tokens() -> int | None:
    if importlib.util.find_spec(LOCAL_MODULE) is None:
        return None
    value = getattr(importlib.import_module(LOCAL_MODULE), "CONTEXT_TOKENS", None)
    return value if isinstance(value, int) else None


def build_provider(
    entry: ProviderEntry, registered: Mapping[str, tuple[Provider, Any]]
) -> Provider:
    """Construct the provider an entry describes (imports its backend now)."""
    if entry.backend == "python":
        return registered[entry.name][0]
    options = dict(entry.options)
    retry = {
        "retry_base_delay": float(options.pop("retry_base_delay", 0.5)),
        "retry_max_delay": float(options.pop("retry_max_delay", 30.0)),
    }
    threshold = int(options.pop("breaker_threshold", 5))
    cooldown = float(options.pop("breaker_cooldown", 30.0))
    for key in COMMON_OPTIONS:
        options.pop(key, None)
    from llmspell.providers.resilience import breaker_for

    if entry.backend == "local":
        module = importlib.import_module(LOCAL_MODULE)
        threads = int(options.pop("threads", module.DEFAULT_THREADS))
        local: Provider = module.LocalProvider(
            model=entry.default_model or LOCAL_DEFAULT_MODEL, threads=threads
        )
        return local
    if entry.backend == "scripted":
        from llmspell.providers.resilience import ResilientProvider, RetryPolicy
        from llmspell.providers.scripted import ScriptedProvider

        scripted = ScriptedProvider.from_options(entry.name, options, entry.default_model)
        policy = RetryPolicy(
            entry.max_retries, retry["retry_base_delay"], retry["retry_max_delay"], entry.timeout
        )
        breaker = breaker_for(
            f"scripted:{entry.name}", failure_threshold=threshold, cooldown=cooldown
        )
        return ResilientProvider(scripted, policy, breaker)
    capabilities = entry_capabilities(entry)
    if entry.backend == "native":
        from llmspell.providers.openai_compat import OpenAICompatProvider

        assert entry.base_url is not None
        headers = options.pop("headers", None)
        price = options.pop("price_provider", entry.preset.price_prefix if entry.preset else None)
        unknown = sorted(options)
        if unknown:
            raise ConfigError(
                f"providers.{entry.name}.options: unknown key '{unknown[0]}' for an "
                "OpenAI-compatible provider (known: headers, price_provider, "
                f"{', '.join(COMMON_OPTIONS)})"
            )
        return OpenAICompatProvider(
            entry.base_url,
            api_key=entry.api_key,
            default_model=entry.default_model,
            timeout=entry.timeout,
            max_retries=entry.max_retries,
            name=entry.name,
            capabilities=capabilities,
            headers=dict(headers) if isinstance(headers, Mapping) else None,
            breaker=breaker_for(entry.base_url, failure_threshold=threshold, cooldown=cooldown),
            price_provider=str(price) if price else None,
            free=bool(entry.preset and entry.preset.local),
            **retry,
        )
    from llmspell.providers.litellm_backend import LiteLLMProvider

    endpoint = f"litellm:{entry.provider_type}:{entry.base_url or 'default'}"
    return LiteLLMProvider(
        entry.provider_type,
        entry.default_model,
        api_key=entry.api_key,
        api_base=entry.base_url,
        timeout=entry.timeout,
        max_retries=entry.max_retries,
        name=entry.name,
        capabilities=capabilities,
        breaker=breaker_for(endpoint, failure_threshold=threshold, cooldown=cooldown),
        options=options,
        **retry,
    )
