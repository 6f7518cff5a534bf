"""The tools an agent offers its model, and running the calls the model asks for.

A failing call does not fail the agent: its error goes back to the model as the tool message,
so the model can correct itself. Only errors that must end the whole run (an exhausted budget,
a tripped run limit) propagate. Several calls asked for at once run concurrently.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from llmspell.agents.collaborators import ToolInvoker
from llmspell.core.errors import (
    BudgetExceeded,
    LimitExceeded,
    LlmspellError,
    ToolError,
    ToolNotFound,
    ValidationError,
)
from llmspell.core.types import ChatMessage, ToolCall, ToolSpec
from llmspell_utils.concurrency import concurrent_map
from llmspell_utils.jsonutil import dumps

FATAL_ERRORS = (BudgetExceeded, LimitExceeded)
"""Tool errors that end the agent's run instead of being reported to the model."""

_WIRE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_WIRE_NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """One executed tool call: ``result`` is the tool's result dict, or
    ``{success = false, error = "Kind: message"}`` when it failed."""

    call: ToolCall
    tool: str
    result: dict[str, Any]
    duration_ms: float

    @property
    def success(self) -> bool:
        return bool(self.result.get("success", True))

    def message(self) -> ChatMessage:
        """The tool message that gives the result back to the model."""
        return ChatMessage.tool(self.call.id, _result_text(self.result), name=self.call.name)

    def to_data(self) -> dict[str, Any]:
        return {
            "id": self.call.id,
            "name": self.tool,
            "arguments": self.call.arguments,
            "result": self.result,
        }


def _result_text(result: dict[str, Any]) -> str:
    if not result.get("success", True):
        reason = result.get("error") or result.get("message") or result.get("text") or "failed"
        return f"Error: {reason}"
    text = result.get("text")
    if isinstance(text, str) and text:
        return text
    return dumps(result.get("result"))


def _wire_name(name: str) -> str:
    """The tool's name as model APIs accept it (letters, digits, ``_`` and ``-``)."""
    return _WIRE_UNSAFE.sub("_", name)[:_WIRE_NAME_MAX]


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class ToolSet:
    """The allowed tools of one agent, reached through a ``ToolInvoker``."""

    def __init__(self, agent: str, invoker: ToolInvoker | None, allowed: list[str]) -> None:
        if allowed and invoker is None:
            raise ValidationError(
                f"agent '{agent}': allowed_tools are set but the agent was given no tool access"
            )
        self.agent = agent
        self.allowed = list(allowed)
        self._invoker = invoker
        self._specs: list[ToolSpec] | None = None
        self._by_wire_name: dict[str, str] = {}
        self._allowed_keys = {_kebab(name) for name in allowed}

    def allows(self, name: str) -> bool:
        return _kebab(name) in self._allowed_keys or name in self._by_wire_name

    async def specs(self) -> list[ToolSpec]:
        """The allowed tools' specs, named as the model will call them (fetched once)."""
        if self._specs is None:
            if self._invoker is None or not self.allowed:
                self._specs = []
                return self._specs
            specs = await self._invoker.specs(self.allowed)
            by_wire: dict[str, str] = {}
            wire_specs = []
            for spec in specs:
                wire = _wire_name(spec.name)
                if wire in by_wire and by_wire[wire] != spec.name:
                    raise ValidationError(
                        f"agent '{self.agent}': tools '{by_wire[wire]}' and '{spec.name}' "
                        f"would both be called '{wire}' by the model"
                    )
                by_wire[wire] = spec.name
                self._allowed_keys.add(_kebab(spec.name))
                wire_specs.append(spec.model_copy(update={"name": wire}))
            self._by_wire_name = by_wire
            self._specs = wire_specs
        return self._specs

    def describe(self, specs: list[ToolSpec]) -> list[dict[str, Any]]:
        """``{name, description, parameters}`` of each tool, under its real name."""
        return [
            {
                "name": self._by_wire_name.get(s.name, s.name),
                "description": s.description,
                "parameters": s.parameters,
            }
            for s in specs
        ]

    def tool_name(self, called: str) -> str | None:
        """The real name of the tool the model called, or None when it is not allowed."""
        if called in self._by_wire_name:
            return self._by_wire_name[called]
        if _kebab(called) in self._allowed_keys:
            return called
        return None

    async def invoke(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call an allowed tool directly; errors are raised, not returned."""
        tool = self.tool_name(name)
        if tool is None or self._invoker is None:
            allowed = ", ".join(self.allowed) or "none"
            raise ToolNotFound(
                f"agent '{self.agent}' has no tool '{name}' (allowed tools: {allowed})"
            )
        return await self._invoker.invoke(tool, params)

    async def run(self, calls: list[ToolCall]) -> list[ToolOutcome]:
        """Run the calls (concurrently when several), in the order given."""
        if len(calls) == 1:
            return [await self._run_one(calls[0])]
        return await concurrent_map(self._run_one, calls, len(calls))

    async def _run_one(self, call: ToolCall) -> ToolOutcome:
        started = time.perf_counter()
        tool = self.tool_name(call.name) or call.name
        try:
            _check_arguments(call)
            result = await self.invoke(call.name, call.arguments)
        except FATAL_ERRORS:
            raise
        except LlmspellError as exc:
            result = {"success": False, "error": exc.lua_message()}
        duration = round((time.perf_counter() - started) * 1000, 3)
        return ToolOutcome(call, tool, result, duration)


def _check_arguments(call: ToolCall) -> None:
    """The model's argument text must be a JSON object (providers give ``{}`` otherwise)."""
    raw = call.raw_arguments.strip()
    if not raw or call.arguments:
        return
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ToolError(
            f"arguments of the call to '{call.name}' are not a JSON object: {raw[:200]}"
        )
