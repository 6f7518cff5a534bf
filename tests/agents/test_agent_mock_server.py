"""Agents over the real HTTP + SSE path, against the local OpenAI-compatible mock server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from llmspell.agents.factory import build_agent
from llmspell.core.config import load_config
from llmspell.core.errors import ConfigError, ValidationError
from llmspell.providers.mock_server import MockServer
from llmspell.providers.registry import ProviderRegistry
from llmspell.providers.scripted import ScriptedProvider


def scripted(server: MockServer) -> ScriptedProvider:
    assert isinstance(server.provider, ScriptedProvider)
    return server.provider


def registry_for(server: MockServer) -> ProviderRegistry:
    config = load_config(
        {
            "providers": {
                "mock": {
                    "provider_type": "openai",
                    "base_url": server.base_url,
                    "default_model": "mock-default",
                    "max_retries": 0,
                }
            }
        },
        discover=False,
        environ={},
    )
    return ProviderRegistry(config, environ={})


async def test_execute_stream_and_tools_over_http(mock_server: MockServer) -> None:
    script = scripted(mock_server)
    providers = registry_for(mock_server)
    agent = build_agent(
        {"name": "web", "model": "mock/mock-large", "system_prompt": "Be short."}, providers
    )
    output = await agent.execute("echo me")
    assert output["text"] == "echo me"
    assert output["metadata"]["provider"] == "mock"
    assert output["metadata"]["model"] == "mock-large"
    assert output["metadata"]["total_tokens"] > 0
    assert script.requests[-1].model == "mock-large"
    assert [m.role for m in script.requests[-1].messages] == ["system", "user"]

    script.push({"chunks": ["one ", "two ", "three"], "chunk_delay": 0.15})
    arrivals: list[tuple[str, float]] = []
    started = time.perf_counter()
    async for chunk in agent.stream("count"):
        if "text" in chunk:
            arrivals.append((chunk["text"], time.perf_counter() - started))
    assert "".join(t for t, _ in arrivals) == "one two three"
    assert arrivals[0][1] < arrivals[-1][1] - 0.1

    script.push(
        {"tool_calls": [{"name": "lookup", "arguments": {"key": "k"}}]},
        "The value is v.",
    )

    class Lookup:
        async def specs(self, names: list[str]) -> list[Any]:
            from llmspell.core.types import ToolSpec

            return [ToolSpec(name="lookup", parameters={"type": "object"})]

        async def invoke(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
            return {"success": True, "result": "v", "text": "v"}

    tooled = build_agent(
        {"name": "tooled", "model": "mock/m", "tools": ["lookup"]}, providers, tools=Lookup()
    )
    answer = await tooled.execute("what is k?")
    assert answer["text"] == "The value is v."
    wire_tool_message = script.requests[-1].messages[-1]
    assert wire_tool_message.role == "tool" and wire_tool_message.text == "v"
    await providers.aclose()


async def test_agent_with_its_own_endpoint_and_key() -> None:
    with MockServer(ScriptedProvider(echo=True), api_key="sk-agent") as server:
        providers = ProviderRegistry(load_config({}, discover=False, environ={}), environ={})
        agent = build_agent(
            {"name": "own", "model": "llama-3", "base_url": server.base_url, "api_key": "sk-agent"},
            providers,
        )
        try:
            output = await agent.execute("hello")
        finally:
            await agent.aclose()
        assert output["text"] == "hello"
        assert scripted(server).requests[-1].model == "llama-3"
        assert agent.get_config()["api_key"] == "***"


def test_unresolvable_models_are_reported(mock_server: MockServer) -> None:
    providers = ProviderRegistry(
        load_config(
            {
                "providers": {
                    "bare": {"provider_type": "openai_compat", "base_url": mock_server.base_url}
                }
            },
            discover=False,
            environ={},
        ),
        environ={},
    )
    with pytest.raises(ValidationError, match="no model"):
        build_agent({"name": "x", "provider": "bare"}, providers)
    with pytest.raises(ConfigError, match="unknown provider 'nowhere'"):
        build_agent({"name": "x", "provider": "nowhere", "model": "m"}, providers)
