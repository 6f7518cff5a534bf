"""Model resolution, provider construction from configuration, and listing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from llmspell.core.config import load_config
from llmspell.core.errors import ConfigError, ValidationError
from llmspell.core.types import ChatMessage, ChatRequest
from llmspell.providers import registry as registry_module
from llmspell.providers.litellm_backend import LiteLLMProvider
from llmspell.providers.mock_server import MockServer
from llmspell.providers.openai_compat import OpenAICompatProvider
from llmspell.providers.registry import ProviderRegistry
from llmspell.providers.resilience import FallbackProvider, ResilientProvider


def make(data: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> ProviderRegistry:
    return ProviderRegistry(load_config(data or {}, discover=False, environ={}), environ=env or {})


@pytest.fixture
def no_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "local_available", lambda: False)


@pytest.fixture
def with_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "local_available", lambda: True)


def hello() -> ChatRequest:
    return ChatRequest(messages=[ChatMessage.user("hello")])


def test_explicit_preset_provider_and_model(no_local: None) -> None:
    registry = make(env={"GROQ_API_KEY": "g"})
    provider, model = registry.resolve("groq/llama-3.1-8b-instant")
    assert isinstance(provider, OpenAICompatProvider)
    assert provider.base_url == "https://api.groq.com/openai/v1"
    assert (provider.name, model) == ("groq", "llama-3.1-8b-instant")


def test_provider_argument_keeps_slashes_in_the_model(no_local: None) -> None:
    registry = make(env={"OPENROUTER_API_KEY": "k"})
    provider, model = registry.resolve("meta-llama/llama-3-8b", provider="openrouter")
    assert (provider.name, model) == ("openrouter", "meta-llama/llama-3-8b")


def test_unknown_head_is_part_of_the_model_name(no_local: None) -> None:
    registry = make(env={"OPENAI_API_KEY": "k"})
    provider, model = registry.resolve("org-x/some-model")
    assert (provider.name, model) == ("openai", "org-x/some-model")


def test_configured_provider_by_name(mock_server: MockServer) -> None:
    registry = make(
        {
            "providers": {
                "mock": {
                    "provider_type": "openai",
                    "base_url": mock_server.base_url,
                    "default_model": "gpt-4o-mini",
                    "timeout": 5,
                    "max_retries": 0,
                }
            }
        }
    )
    provider, model = registry.resolve("mock/other-model")
    assert isinstance(provider, OpenAICompatProvider)
    assert (provider.base_url, model) == (mock_server.base_url, "other-model")
    assert registry.resolve("mock")[1] == "mock"  # a bare name is a model of the default
    assert registry.resolve(None, "mock")[1] == "gpt-4o-mini"
    assert registry.resolve("mock/x")[0] is provider  # built once


def test_default_provider_from_configuration() -> None:
    registry = make(
        {
            "default_provider": "test",
            "providers": {
                "test": {"provider_type": "scripted", "options": {"replies": ["hi"]}},
                "other": {"provider_type": "scripted"},
            },
        },
        env={"OPENAI_API_KEY": "k"},
    )
    provider, model = registry.resolve()
    assert provider.name == "test"
    assert model == "scripted"
    provider, model = registry.resolve("bigger-model")
    assert (provider.name, model) == ("test", "bigger-model")


def test_the_only_configured_provider_is_the_default() -> None:
    registry = make(
        {"providers": {"solo": {"provider_type": "scripted", "default_model": "s1"}}},
        env={"OPENAI_API_KEY": "k"},
    )
    provider, model = registry.resolve()
    assert (provider.name, model) == ("solo", "s1")


def test_first_api_key_in_the_environment(no_local: None) -> None:
    provider, model = make(env={"GROQ_API_KEY": "g", "GEMINI_API_KEY": "x"}).resolve()
    assert isinstance(provider, LiteLLMProvider)
    assert (provider.name, model) == ("gemini", "gemini-2.5-flash")
    provider, model = make(env={"GROQ_API_KEY": "g", "OPENAI_API_KEY": "o"}).resolve()
    assert (provider.name, model) == ("openai", "gpt-4o-mini")
    provider, _ = make(env={"GROQ_API_KEY": "g"}).resolve()
    assert provider.name == "groq"


def test_local_model_when_nothing_else(with_local: None) -> None:
    entry, model = make().resolve_entry()
    assert (entry.name, entry.backend, model) == ("local", "local", "smollm2")


def test_no_provider_says_what_to_set(no_local: None) -> None:
    with pytest.raises(ConfigError) as caught:
        make().resolve()
    message = str(caught.value)
    for hint in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "default_provider", "llmspell[local]"):
        assert hint in message


def test_missing_key_for_an_explicit_remote_provider(no_local: None) -> None:
    with pytest.raises(ConfigError, match="needs an API key: set DEEPSEEK_API_KEY"):
        make().resolve("deepseek/deepseek-chat")


def test_unknown_provider_and_default(no_local: None) -> None:
    with pytest.raises(ConfigError, match="unknown provider 'nope'"):
        make().resolve(None, "nope")
    with pytest.raises(ConfigError, match="default_provider 'ghost'"):
        make({"default_provider": "ghost"}).resolve()


def test_no_model_is_a_validation_error() -> None:
    registry = make({"providers": {"v": {"provider_type": "vllm"}}})
    with pytest.raises(ValidationError, match="no model for provider 'v'"):
        registry.resolve()
    provider, model = registry.resolve("v/qwen")
    assert isinstance(provider, OpenAICompatProvider)
    assert provider.base_url == "http://localhost:8000/v1"
    assert model == "qwen"


def test_litellm_provider_by_name_without_importing_it(no_local: None) -> None:
    registry = make(env={"ANTHROPIC_API_KEY": "a"})
    provider, model = registry.resolve("anthropic/claude-haiku-4-5")
    assert isinstance(provider, LiteLLMProvider)
    assert (provider.litellm_provider, model) == ("anthropic", "claude-haiku-4-5")
    entry, _ = registry.resolve_entry("bedrock/some-model")
    assert (entry.backend, entry.provider_type) == ("litellm", "bedrock")


def test_configuration_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"providers\.x: provider_type 'openai_compat' needs"):
        make({"providers": {"x": {"provider_type": "openai_compat"}}}).resolve()
    with pytest.raises(ConfigError, match="unknown provider_type 'wat'"):
        make({"providers": {"x": {"provider_type": "wat"}}}).resolve()
    bad_option = {"provider_type": "ollama", "default_model": "m", "options": {"colour": "red"}}
    with pytest.raises(ConfigError, match=r"providers\.x\.options: unknown key 'colour'"):
        make({"providers": {"x": bad_option}}).resolve()
    bad_reply = {"provider_type": "scripted", "options": {"replies": [{"txt": "typo"}]}}
    with pytest.raises(ConfigError, match=r"providers\.x\.options\.replies\[0\]\.txt"):
        make({"providers": {"x": bad_reply}}).resolve()


async def test_scripted_provider_from_configuration_retries_injected_failures() -> None:
    registry = make(
        {
            "providers": {
                "test": {
                    "provider_type": "scripted",
                    "max_retries": 2,
                    "options": {
                        "retry_base_delay": 0.001,
                        "replies": [{"error": "rate_limited", "times": 2}, "third time lucky"],
                    },
                }
            }
        }
    )
    provider, model = registry.resolve()
    assert isinstance(provider, ResilientProvider)
    response = await provider.complete(hello().model_copy(update={"model": model}))
    assert response.text == "third time lucky"


async def test_fallbacks_from_configuration() -> None:
    registry = make(
        {
            "default_provider": "main",
            "providers": {
                "main": {
                    "provider_type": "scripted",
                    "max_retries": 0,
                    "fallbacks": ["spare/spare-model"],
                    "options": {"replies": [{"error": "unavailable"}]},
                },
                "spare": {"provider_type": "scripted", "options": {"replies": ["from spare"]}},
            },
        }
    )
    provider, model = registry.resolve()
    assert isinstance(provider, FallbackProvider)
    response = await provider.complete(hello().model_copy(update={"model": model}))
    assert (response.text, response.provider, response.model) == (
        "from spare",
        "spare",
        "spare-model",
    )


def test_fallback_errors_name_the_entry() -> None:
    cfg = {"providers": {"a": {"provider_type": "scripted", "fallbacks": ["nope/x"]}}}
    with pytest.raises(ConfigError, match=r"providers\.a\.fallbacks: 'nope/x'"):
        make(cfg).resolve()


async def test_configured_endpoint_works_end_to_end(mock_server: MockServer) -> None:
    mock_server.script.reply("configured and served")
    registry = make(
        {
            "providers": {
                "mine": {
                    "provider_type": "openai",
                    "base_url": mock_server.base_url,
                    "api_key": "k",
                    "default_model": "gpt-4o-mini",
                }
            }
        }
    )
    provider, model = registry.resolve()
    response = await provider.complete(hello().model_copy(update={"model": model}))
    assert response.text == "configured and served"
    await registry.aclose()


def test_register_a_python_provider() -> None:
    from llmspell.providers.scripted import ScriptedProvider

    registry = make()
    script = ScriptedProvider(["hi"])
    registry.register("mine", script, default_model="m")
    assert registry.resolve("mine/x") == (script, "x")
    assert registry.resolve(None, "mine") == (script, "m")


def test_list_providers_shape(with_local: None) -> None:
    registry = make(
        {
            "default_provider": "test",
            "providers": {
                "test": {"provider_type": "scripted", "default_model": "script-1"},
                "oai": {"provider_type": "openai"},
            },
        },
        env={"ANTHROPIC_API_KEY": "a"},
    )
    rows = {row["provider"]: row for row in registry.list_providers()}
    assert set(rows) == {"test", "oai", "anthropic", "local"}
    test = rows["test"]
    assert test["name"] == "scripted/test/script-1"
    backend, provider, model = test["name"].split("/")
    assert (backend, provider, model) == (test["backend"], test["provider"], test["model"])
    assert test["default"] is True
    assert test["enabled"] is True
    assert set(test["capabilities"]) == {
        "supports_streaming",
        "supports_multimodal",
        "supports_tools",
        "max_context_tokens",
        "available_models",
    }
    assert rows["oai"]["enabled"] is False  # no OPENAI_API_KEY
    assert rows["oai"]["capabilities"]["max_context_tokens"] == 128000
    assert rows["oai"]["capabilities"]["supports_multimodal"] is True
    assert rows["anthropic"]["backend"] == "litellm"
    assert rows["anthropic"]["source"] == "environment"
    assert rows["local"]["capabilities"]["supports_tools"] is False
    assert registry.info("oai") == rows["oai"] | {"default": False}
    assert registry.info("ghost") is None
    assert registry.is_available("test")
    assert not registry.is_available("oai")
    assert not registry.is_available("ghost")


def test_capability_overrides_from_options() -> None:
    registry = make(
        {
            "providers": {
                "v": {
                    "provider_type": "ollama",
                    "default_model": "llava",
                    "options": {"vision": True, "max_context_tokens": 8192},
                }
            }
        }
    )
    provider, _ = registry.resolve()
    assert provider.capabilities.vision is True
    assert provider.capabilities.max_context_tokens == 8192


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_import_and_resolution_stay_light() -> None:
    out = run_python(
        """
        import sys
        from llmspell.providers.registry import ProviderRegistry
        heavy = ("litellm", "openai", "httpx", "pydantic")
        print(sorted(m for m in heavy if m in sys.modules))
        registry = ProviderRegistry(environ={"OPENAI_API_KEY": "k"})
        registry.resolve_entry("openai/gpt-4o-mini")
        print(sorted(m for m in heavy if m in sys.modules))
        registry.resolve("openai/gpt-4o-mini")
        print(sorted(m for m in ("litellm", "openai") if m in sys.modules))
        print("httpx" in sys.modules)
        """
    )
    assert out.splitlines() == ["[]", "[]", "[]", "True"]
