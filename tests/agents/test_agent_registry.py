"""AgentRegistry, and agents as tools of other agents (with a recursion limit)."""

from __future__ import annotations

import pytest
from agent_testkit import make_agent

from llmspell.agents.as_tool import wrap_as_tool
from llmspell.agents.registry import AgentRegistry
from llmspell.agents.tool_invoker import RegistryToolInvoker
from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.providers.scripted import ScriptedProvider
from llmspell.tools.base import Tool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


def test_register_get_list_and_info() -> None:
    registry = AgentRegistry()
    writer, _ = make_agent(name="writer", description="writes")
    critic, _ = make_agent(name="critic")
    assert registry.register(writer) == "writer"
    registry.register(critic)
    assert registry.get("writer") is writer
    assert registry.find("nobody") is None
    with pytest.raises(NotFoundError, match=r"agent 'nobody' not found.*critic, writer"):
        registry.get("nobody")
    assert registry.list_instances() == ["critic", "writer"]
    assert [info["name"] for info in registry.list()] == ["critic", "writer"]
    info = registry.get_info("writer")
    assert info["description"] == "writes"
    assert info["provider"] == "scripted" and info["model"] == "test-model"
    again, _ = make_agent(name="writer")
    registry.register(again)
    assert registry.get("writer") is again
    with pytest.raises(ValidationError, match="already registered"):
        registry.register(writer, replace=False)
    assert registry.unregister("critic") and not registry.unregister("critic")


async def test_an_agent_calls_a_sub_agent_through_a_tool() -> None:
    researcher, research_provider = make_agent(
        ScriptedProvider(["Paris is the capital."]), name="researcher", description="finds facts"
    )
    tools = ToolRegistry()
    tool = wrap_as_tool(researcher, "ask-researcher")
    assert isinstance(tool, Tool)
    tools.register(tool)
    invoker = RegistryToolInvoker(tools, lambda: PermissionPolicy().context())
    lead_provider = ScriptedProvider(
        [
            {"tool_calls": [{"name": "ask-researcher", "arguments": {"input": "Capital?"}}]},
            "The researcher says: Paris.",
        ]
    )
    lead, _ = make_agent(
        lead_provider, name="lead", tools=invoker, allowed_tools=["ask-researcher"]
    )
    output = await lead.execute("What is the capital of France?")
    assert output["text"] == "The researcher says: Paris."
    assert research_provider.requests[0].messages[-1].text == "Capital?"
    result = output["tool_calls"][0]["result"]
    assert result["text"] == "Paris is the capital."
    assert result["metadata"]["agent"] == "researcher"
    assert tools.info("ask-researcher")["description"] == "finds facts"


async def test_agents_calling_each_other_stop_at_the_depth_limit() -> None:
    call_loop = {"tool_calls": [{"name": "loop", "arguments": {"input": "again"}}]}
    provider = ScriptedProvider([call_loop, call_loop, "gave up", "done"])
    tools = ToolRegistry()
    invoker = RegistryToolInvoker(tools, lambda: PermissionPolicy().context())
    agent, _ = make_agent(provider, name="looper", tools=invoker, allowed_tools=["loop"])
    tools.register(wrap_as_tool(agent, "loop", max_depth=2))
    result = await tools.execute("loop", {"input": "start"}, PermissionPolicy().context())
    assert result.text == "done"
    assert len(provider.requests) == 4
    refused = provider.requests[2].messages[-1]
    assert refused.role == "tool"
    assert refused.text.startswith("Error: ToolError: loop: agent tool 'loop': agents are nested 2")
    assert provider.requests[3].messages[-1].text == "gave up"
