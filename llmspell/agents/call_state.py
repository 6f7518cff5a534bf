"""What one agent call accumulates (usage, cost, tool calls) and the output it returns."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from llmspell.core.types import ChatResponse
from llmspell_utils.ids import new_id
from llmspell_utils.timeouts import Deadline


class AgentCall:
    """The state of one agent call, across its model turns and hook retries."""

    __slots__ = (
        "cost_usd",
        "deadline",
        "execution_id",
        "finish_reason",
        "given_input",
        "input_data",
        "input_tokens",
        "model",
        "output",
        "output_tokens",
        "started",
        "tool_calls",
        "total_tokens",
    )

    def __init__(self, input_data: Any) -> None:
        self.execution_id = new_id("exec")
        self.given_input = input_data
        self.input_data = input_data
        self.started = time.perf_counter()
        self.deadline: Deadline | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.total_tokens = 0
        self.cost_usd: float | None = None
        self.model = ""
        self.finish_reason: str | None = None
        self.tool_calls: list[dict[str, Any]] = []
        self.output: dict[str, Any] | None = None

    @property
    def duration_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

    def record(self, response: ChatResponse) -> None:
        """Add one model response. Tokens and cost add up over every turn and retry."""
        usage = response.usage
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.total_tokens += usage.total_tokens
        if response.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + response.cost_usd
        self.model = response.model or self.model
        self.finish_reason = response.finish_reason

    def restart(self) -> None:
        """Begin another attempt (a hook asked for a retry): from the input as given, with
        its tool calls counted afresh."""
        self.input_data = self.given_input
        self.tool_calls = []
        self.finish_reason = None

    def build_output(self, text: str, *, provider: str, model: str) -> dict[str, Any]:
        """``{text, media, tool_calls, metadata}`` as the spec gives it to scripts."""
        return {
            "text": text,
            "media": [],
            "tool_calls": list(self.tool_calls),
            "metadata": {
                "model": self.model or model,
                "provider": provider,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "total_tokens": self.total_tokens,
                "cost_usd": self.cost_usd,
                "duration_ms": self.duration_ms,
                "finish_reason": self.finish_reason,
                "tool_call_count": len(self.tool_calls),
            },
        }

    def replacement(self, value: Any, *, provider: str, model: str) -> dict[str, Any]:
        """The output a hook put in place of the agent's: a table (merged over the output
        shape), a string (the text), or nothing (empty text)."""
        output = self.build_output("", provider=provider, model=model)
        if isinstance(value, Mapping):
            output.update(value)
        elif value is not None:
            output["text"] = value if isinstance(value, str) else str(value)
        return output
