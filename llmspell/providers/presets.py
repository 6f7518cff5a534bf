"""Known endpoints: OpenAI-compatible servers reached natively, and litellm-only providers.

A preset gives the base URL, the environment variables that may hold the API key, a default
model, and the prefix under which litellm's price table lists the provider's models.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    base_url: str
    key_env: tuple[str, ...]
    default_model: str | None
    price_prefix: str | None
    """litellm provider name used for price lookups; ``None`` for local servers (free)."""
    vision: bool = False
    tools: bool = True

    @property
    def local(self) -> bool:
        return self.price_prefix is None


NATIVE_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "openai",
            "https://api.openai.com/v1",
            ("OPENAI_API_KEY",),
            "gpt-4o-mini",
            "openai",
            vision=True,
        ),
        Preset("ollama", "http://localhost:11434/v1", ("OLLAMA_API_KEY",), None, None),
        Preset("vllm", "http://localhost:8000/v1", ("VLLM_API_KEY",), None, None),
        Preset("llamacpp", "http://localhost:8080/v1", ("LLAMACPP_API_KEY",), None, None),
        Preset("lmstudio", "http://localhost:1234/v1", ("LMSTUDIO_API_KEY",), None, None),
        Preset(
            "groq",
            "https://api.groq.com/openai/v1",
            ("GROQ_API_KEY",),
            "openai/gpt-oss-20b",
            "groq",
        ),
        Preset(
            "openrouter",
            "https://openrouter.ai/api/v1",
            ("OPENROUTER_API_KEY",),
            "openai/gpt-4o-mini",
            "openrouter",
            vision=True,
        ),
        Preset(
            "together",
            "https://api.together.xyz/v1",
            ("TOGETHER_API_KEY", "TOGETHERAI_API_KEY"),
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "together_ai",
        ),
        Preset(
            "deepseek",
            "https://api.deepseek.com/v1",
            ("DEEPSEEK_API_KEY",),
            "deepseek-chat",
            "deepseek",
        ),
        Preset("xai", "https://api.x.ai/v1", ("XAI_API_KEY",), "grok-4.3", "xai", vision=True),
    )
}

PRESET_ALIASES: dict[str, str] = {
    "llama.cpp": "llamacpp",
    "llama-cpp": "llamacpp",
    "lm-studio": "lmstudio",
    "together_ai": "together",
    "grok": "xai",
}


@dataclass(frozen=True, slots=True)
class LiteLLMDefault:
    """A litellm provider found through its API key variable, and the model to use then."""

    provider: str
    key_env: str
    default_model: str


LITELLM_DEFAULTS: dict[str, LiteLLMDefault] = {
    d.provider: d
    for d in (
        LiteLLMDefault("anthropic", "ANTHROPIC_API_KEY", "claude-haiku-4-5"),
        LiteLLMDefault("gemini", "GEMINI_API_KEY", "gemini-2.5-flash"),
        LiteLLMDefault("mistral", "MISTRAL_API_KEY", "mistral-small-latest"),
        LiteLLMDefault("cohere", "COHERE_API_KEY", "command-r-08-2024"),
    )
}

ENV_KEY_ORDER: tuple[str, ...] = (
    "openai",
    "anthropic",
    "gemini",
    "groq",
    "mistral",
    "deepseek",
    "xai",
    "openrouter",
    "together",
    "cohere",
)
"""Order in which API key variables are looked for when no default provider is configured."""


def find_preset(name: str) -> Preset | None:
    return NATIVE_PRESETS.get(PRESET_ALIASES.get(name, name))
