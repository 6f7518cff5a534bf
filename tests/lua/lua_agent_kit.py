"""Hosts and providers for the Lua-level agent tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from llmspell import Host
from llmspell.core.result import RunResult
from llmspell.core.types import Capabilities, ChatRequest, ChatResponse, StreamEvent
from llmspell.providers.scripted import ScriptedProvider

ASSETS = Path(__file__).parent / "assets"
PNG = ASSETS / "red-square.png"


def scripted_config(replies: list[Any] | None = None, **options: Any) -> dict[str, Any]:
    """A Host config whose default provider ``s`` is the scripted provider (echo when no
    replies are given)."""
    opts: dict[str, Any] = {"echo": replies is None, **options}
    if replies is not None:
        opts["replies"] = replies
    return {
        "storage": {"backend": "memory"},
        "default_provider": "s",
        "providers": {"s": {"provider_type": "scripted", "options": opts}},
    }


def host_with(provider: Any, *, model: str = "m", **config: Any) -> Host:
    """A Host whose default provider ``probe`` is ``provider`` (registered from Python, so the
    test can look at the requests it received)."""
    host = Host({"storage": {"backend": "memory"}, "default_provider": "probe", **config})
    host.services.providers.register("probe", provider, default_model=model)
    return host


def ok(result: RunResult) -> Any:
    assert result.status == "ok", result.error
    return result.value


class Probe:
    """A provider over a ``ScriptedProvider`` that counts the stream events it has produced
    and the streams that were closed before their end."""

    def __init__(self, script: ScriptedProvider) -> None:
        self.script = script
        self.produced = 0
        self.closed_early = 0

    @property
    def name(self) -> str:
        return "probe"

    @property
    def capabilities(self) -> Capabilities:
        return self.script.capabilities

    async def complete(self, request: ChatRequest) -> ChatResponse:
        return await self.script.complete(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        finished = False
        try:
            async for event in self.script.stream(request):
                self.produced += 1
                yield event
            finished = True
        finally:
            if not finished:
                self.closed_early += 1

    async def aclose(self) -> None:
        return None


def requests_text(requests: list[ChatRequest]) -> list[list[str]]:
    """The text of every message of every request, for assertions on what the model saw."""
    return [[m.text for m in request.messages] for request in requests]
