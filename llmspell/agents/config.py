"""An agent's configuration: validation, and the table spellings scripts use to give it.

Three spellings describe the same configuration (see the Agent section of the Lua API):

- the builder's fields: ``name``, ``model = "provider/model"``, ``system_prompt``, ``tools``...
- ``Agent.create{...}``: the same, plus ``prompt`` for ``system_prompt`` and ``tools`` for
  ``allowed_tools``;
- ``Agent.register{model = {provider, model_id, temperature, max_tokens}}``: the model as a table.

``AgentConfig.from_table`` accepts all of them (and camelCase keys); errors name the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from llmspell.core.config import REDACTED
from llmspell.core.errors import ValidationError
from llmspell.core.types import validation_error
from llmspell_utils.ids import new_id

DEFAULT_MAX_TOOL_CALLS = 10
DEFAULT_MAX_CONVERSATION_LENGTH = 100

_SECRET_PARTS = {"token", "secret", "password", "passwd", "credential", "credentials"}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_ALIASES = {
    "prompt": "system_prompt",
    "tools": "allowed_tools",
    "agent_type": "type",
    "max_execution_time_secs": "max_execution_time",
}
_MODEL_TABLE_KEYS = {
    "provider": "provider",
    "model_id": "model",
    "model": "model",
    "name": "model",
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "base_url": "base_url",
    "api_key": "api_key",
}
_LIMIT_KEYS = {
    "max_tool_calls": "max_tool_calls",
    "max_execution_time": "max_execution_time",
    "max_execution_time_secs": "max_execution_time",
}


def _not_bool(value: Any) -> Any:
    """Reject booleans where numbers are expected (pydantic would read ``true`` as 1)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


Number = Annotated[float, BeforeValidator(_not_bool)]
Count = Annotated[int, BeforeValidator(_not_bool), Field(strict=True)]


class AgentConfig(BaseModel):
    """What an agent is: its model, prompt, sampling settings, tools and limits.

    ``model`` is a spec ``"provider/model"`` (split on the first ``/``) or a bare model name;
    ``provider`` names the provider explicitly. ``context`` is passed through to the context
    manager (e.g. ``{threshold = 0.7, keep_last_turns = 4}``); ``resource_limits`` and
    ``custom_config`` are kept for the caller.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default_factory=lambda: new_id("agent"), min_length=1)
    description: str = ""
    model: str | None = None
    provider: str | None = None
    system_prompt: str | None = None
    temperature: Number | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: Count | None = Field(default=None, gt=0)
    max_conversation_length: Count | None = Field(default=DEFAULT_MAX_CONVERSATION_LENGTH, gt=0)
    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    allowed_tools: list[str] = Field(default_factory=list)
    max_tool_calls: Count = Field(default=DEFAULT_MAX_TOOL_CALLS, ge=0)
    max_execution_time: Number | None = Field(default=None, gt=0)
    resource_limits: dict[str, Any] = Field(default_factory=dict)
    custom_config: dict[str, Any] = Field(default_factory=dict)
    type: str = "llm"
    streaming: bool = True
    context: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_is_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("model", "provider")
    @classmethod
    def _spec_parts(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("must not be blank")
        if value.startswith("/") or value.endswith("/"):
            raise ValueError(f"'{value}' is not of the form 'provider/model' or 'model'")
        return value

    @field_validator("allowed_tools")
    @classmethod
    def _tool_names(cls, value: list[str]) -> list[str]:
        for index, name in enumerate(value):
            if not name.strip():
                raise ValueError(f"tool name #{index + 1} is blank")
        return list(dict.fromkeys(value))

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> AgentConfig:
        """Validate a table in any of the script spellings; ``ValidationError`` names the field."""
        if not isinstance(table, Mapping):
            raise ValidationError(f"agent config must be a table, got {type(table).__name__}")
        data = _normalize(table)
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise validation_error(exc, "agent") from None

    @property
    def model_id(self) -> str:
        """The model name within ``model`` (``""``: the provider's default model).

        With an explicit ``provider`` the whole ``model`` is the name (``groq`` +
        ``openai/gpt-oss-20b``); otherwise the part after the first ``/``. ``build_agent``
        resolves through the provider registry instead, which knows the provider names.
        """
        if self.model is None:
            return ""
        if self.provider is None and "/" in self.model:
            return self.model.split("/", 1)[1]
        return self.model

    def to_data(self, *, redact: bool = True) -> dict[str, Any]:
        """Plain data; secrets (``api_key`` and secret-looking keys in tables) as ``***``."""
        data = self.model_dump()
        return _redact(data) if redact else data


def _is_secret(key: str) -> bool:
    """``api_key``, ``access_token``, ``client_secret``... but not ``max_tokens`` or
    ``api_key_env`` (the name of a variable, not a secret)."""
    lowered = key.lower()
    if lowered.endswith("_env"):
        return False
    parts = set(re.split(r"[_\-.]", lowered))
    return lowered.endswith(("api_key", "apikey")) or bool(parts & _SECRET_PARTS)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _is_secret(k) and v else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _snake(key: str) -> str:
    return _CAMEL.sub(r"_\1", key).lower()


def _normalize(table: Mapping[str, Any]) -> dict[str, Any]:
    """One canonical dict from any accepted spelling; conflicting spellings are an error."""
    known = set(AgentConfig.model_fields)
    data: dict[str, Any] = {}
    model_table: Mapping[str, Any] | None = None
    for raw_key, value in table.items():
        if not isinstance(raw_key, str):
            raise ValidationError(f"agent config: keys must be strings, got {raw_key!r}")
        key = _snake(raw_key)
        key = _ALIASES.get(key, key)
        if key not in known:
            raise ValidationError(
                f"agent config: unknown field '{raw_key}' (known fields: "
                f"{', '.join(sorted(known | set(_ALIASES)))})"
            )
        if key == "model" and isinstance(value, Mapping):
            model_table = value
            continue
        if key == "allowed_tools":
            value = _tool_names(value)
        _put(data, key, value, raw_key)
    if model_table is not None:
        for raw_key, value in model_table.items():
            field = _MODEL_TABLE_KEYS.get(_snake(str(raw_key)))
            if field is None:
                raise ValidationError(
                    f"agent.model: unknown field '{raw_key}' (known fields: "
                    f"{', '.join(sorted(_MODEL_TABLE_KEYS))})"
                )
            _put(data, field, value, f"model.{raw_key}")
    limits = data.get("resource_limits")
    if isinstance(limits, Mapping):
        for raw_key, key in _LIMIT_KEYS.items():
            if raw_key in limits and key not in data:
                data[key] = limits[raw_key]
    return data


def _put(data: dict[str, Any], key: str, value: Any, where: str) -> None:
    if key in data and data[key] != value:
        raise ValidationError(
            f"agent.{where}: {value!r} conflicts with {data[key]!r} given for '{key}'"
        )
    data[key] = value


def _tool_names(value: Any) -> Any:
    """Tool names from a list of names or of tool tables (``{name = ...}``)."""
    if not isinstance(value, list | tuple):
        return value
    names = []
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            item = item.get("name")
        if not isinstance(item, str):
            raise ValidationError(
                f"agent.allowed_tools[{index}]: must be a tool name or a tool, got {item!r}"
            )
        names.append(item)
    return names
