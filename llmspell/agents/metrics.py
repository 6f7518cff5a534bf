"""Counters an agent keeps over its lifetime (``agent:get_metrics()``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from llmspell.core.errors import ValidationError


@dataclass
class AgentMetrics:
    """``requests_*`` count agent calls (one call may make several model requests when tools
    are used); tokens and cost add up every model response, including those of failed calls."""

    requests_total: int = 0
    requests_failed: int = 0
    tool_invocations: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0

    def add_usage(self, input_tokens: int, output_tokens: int, total_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.total_tokens += total_tokens

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: Any, where: str = "metrics") -> AgentMetrics:
        """Counters from ``to_data`` output; ``ValidationError`` names a bad or unknown key."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"{where}: must be a table, got {type(data).__name__}")
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in types:
                raise ValidationError(
                    f"{where}.{key}: unknown counter (known: {', '.join(sorted(types))})"
                )
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or value < 0 or (types[key] == "int" and not isinstance(value, int)):
                raise ValidationError(
                    f"{where}.{key}: must be a non-negative {types[key]}, got {value!r}"
                )
            values[key] = value
        return cls(**values)
