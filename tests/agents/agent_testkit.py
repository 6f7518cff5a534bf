"""Helpers for the agent tests: a recording tool invoker and small collaborators."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from llmspell.agents.agent import Agent
from llmspell.agents.config import AgentConfig
from llmspell.core.errors import ToolError
from llmspell.core.types import ChatMessage, ToolSpec
from llmspell.providers.scripted import ScriptedProvider

Handler = Callable[[dict[str, Any]], Any]


class FakeTools:
    """A ``ToolInvoker`` over plain functions; records calls, their timing and concurrency."""

    def __init__(self, handlers: Mapping[str, Handler], delay: float = 0.0) -> None:
        self.handlers = dict(handlers)
        self.delay = delay
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.running = 0
        self.max_running = 0

    async def specs(self, names: list[str]) -> list[ToolSpec]:
        return [
            ToolSpec(name=n, description=f"the {n} tool", parameters={"type": "object"})
            for n in names
        ]

    async def invoke(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, params))
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            value = self.handlers[name](params)
        finally:
            self.running -= 1
        return {"success": True, "result": value, "text": str(value)}


def fail(message: str) -> Handler:
    def handler(params: dict[str, Any]) -> Any:
        raise ToolError(message)

    return handler


class Events:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, type: str, data: dict[str, Any]) -> None:
        self.published.append((type, data))

    def types(self) -> list[str]:
        return [t for t, _ in self.published]


class Budget:
    def __init__(self) -> None:
        self.charges: list[tuple[int, int, float]] = []
        self.checks = 0

    def check(self) -> None:
        self.checks += 1

    def charge(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        self.charges.append((input_tokens, output_tokens, cost_usd))


class KeepLast:
    """A context manager that keeps the system prompt and the last ``n`` messages."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen: list[int] = []

        self.usage: list[tuple[int, int, int]] = []

    async def prepare(self, messages: list[ChatMessage], agent: Any) -> list[ChatMessage]:
        self.seen.append(len(messages))
        return self._keep(messages)

    async def summarize(self, messages: list[ChatMessage], agent: Any) -> list[ChatMessage]:
        return [ChatMessage.system("summary"), *self._keep(messages)[1:]]

    def record_usage(
        self,
        prompt: Sequence[ChatMessage],
        input_tokens: int,
        reply: ChatMessage | None = None,
        output_tokens: int = 0,
    ) -> None:
        self.usage.append((len(prompt), input_tokens, output_tokens))

    def _keep(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        head = [m for m in messages[:1] if m.role == "system"]
        return head + messages[len(head) :][-self.n :]


class MemoryConversations:
    def __init__(self, saved: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.saved = saved or {}

    def load(self, agent_name: str) -> list[dict[str, Any]]:
        return list(self.saved.get(agent_name, []))

    def append(self, agent_name: str, messages: list[dict[str, Any]]) -> None:
        self.saved.setdefault(agent_name, []).extend(messages)


def make_agent(
    provider: ScriptedProvider | None = None, /, **options: Any
) -> tuple[Agent, ScriptedProvider]:
    """An agent over a scripted provider; ``options`` split into config fields and
    ``Agent`` keyword arguments."""
    provider = provider or ScriptedProvider()
    keywords = {
        "tools",
        "read_file",
        "media_limits",
        "events",
        "hooks",
        "context",
        "budget",
        "conversation_store",
    }
    kwargs = {k: options.pop(k) for k in list(options) if k in keywords}
    table = {"name": "helper", "model": "scripted/test-model", **options}
    return Agent(AgentConfig.from_table(table), provider, **kwargs), provider
