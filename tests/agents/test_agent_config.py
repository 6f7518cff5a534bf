"""AgentConfig: the three script spellings, validation naming the field, redaction."""

from __future__ import annotations

import pytest

from llmspell.agents.config import AgentConfig
from llmspell.core.errors import ValidationError


def test_builder_fields() -> None:
    config = AgentConfig.from_table(
        {
            "name": "writer",
            "description": "writes",
            "model": "openai/gpt-4o-mini",
            "system_prompt": "Be brief.",
            "temperature": 0,
            "max_tokens": 200,
            "max_conversation_length": 6,
            "allowed_tools": ["calculator", "uuid_generator", "calculator"],
            "max_tool_calls": 3,
            "max_execution_time": 5,
            "custom_config": {"style": "terse"},
            "type": "llm",
        }
    )
    assert config.name == "writer"
    assert config.temperature == 0.0
    assert config.allowed_tools == ["calculator", "uuid_generator"]
    assert config.max_execution_time == 5.0
    assert config.model_id == "gpt-4o-mini"


def test_create_spelling_prompt_and_tools() -> None:
    config = AgentConfig.from_table(
        {
            "name": "a",
            "model": "gpt-4o",
            "prompt": "Hi",
            "tools": [{"name": "calculator"}, "json-processor"],
            "streaming": False,
        }
    )
    assert config.system_prompt == "Hi"
    assert config.allowed_tools == ["calculator", "json-processor"]
    assert config.streaming is False
    assert config.model_id == "gpt-4o"


def test_register_spelling_model_table_and_camel_case() -> None:
    config = AgentConfig.from_table(
        {
            "name": "r",
            "model": {"provider": "groq", "model_id": "openai/gpt-oss-20b", "temperature": 0.3},
            "systemPrompt": "x",
            "maxTokens": 10,
        }
    )
    assert config.provider == "groq"
    assert config.model == "openai/gpt-oss-20b"
    assert config.model_id == "openai/gpt-oss-20b"
    assert config.temperature == 0.3
    assert config.max_tokens == 10
    assert config.system_prompt == "x"


def test_resource_limits_fill_top_level_limits() -> None:
    config = AgentConfig.from_table(
        {"resource_limits": {"max_execution_time_secs": 7, "max_tool_calls": 2}}
    )
    assert config.max_execution_time == 7.0
    assert config.max_tool_calls == 2
    assert config.name.startswith("agent_")


def test_defaults() -> None:
    config = AgentConfig()
    assert config.max_tool_calls == 10
    assert config.max_conversation_length == 100
    assert config.model_id == ""


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"temperature": 3}, "agent.temperature"),
        ({"temperature": True}, "agent.temperature"),
        ({"max_tokens": 0}, "agent.max_tokens"),
        ({"max_tokens": 2.5}, "agent.max_tokens"),
        ({"max_tool_calls": -1}, "agent.max_tool_calls"),
        ({"max_conversation_length": 0}, "agent.max_conversation_length"),
        ({"max_execution_time": 0}, "agent.max_execution_time"),
        ({"name": "  "}, "agent.name"),
        ({"model": "openai/"}, "agent.model"),
        ({"tools": ["ok", 5]}, "agent.allowed_tools[1]"),
        ({"streaming": "maybe"}, "agent.streaming"),
    ],
)
def test_invalid_fields_are_named(table: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        AgentConfig.from_table(table)
    assert str(err.value).startswith(field)


def test_unknown_field_lists_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown field 'modle'.*model"):
        AgentConfig.from_table({"modle": "x"})
    with pytest.raises(ValidationError, match=r"agent.model: unknown field 'version'"):
        AgentConfig.from_table({"model": {"provider": "openai", "version": 2}})


def test_conflicting_spellings_are_an_error() -> None:
    with pytest.raises(ValidationError, match="system_prompt"):
        AgentConfig.from_table({"prompt": "a", "system_prompt": "b"})
    assert AgentConfig.from_table({"prompt": "a", "system_prompt": "a"}).system_prompt == "a"


def test_to_data_redacts_secrets_only() -> None:
    config = AgentConfig.from_table(
        {
            "api_key": "sk-secret",
            "max_tokens": 5,
            "custom_config": {"access_token": "t0k", "max_tokens": 9, "api_key_env": "MY_KEY"},
        }
    )
    data = config.to_data()
    assert data["api_key"] == "***"
    assert data["max_tokens"] == 5
    assert data["custom_config"] == {
        "access_token": "***",
        "max_tokens": 9,
        "api_key_env": "MY_KEY",
    }
    assert "sk-secret" not in repr(config)
    assert config.to_data(redact=False)["api_key"] == "sk-secret"
