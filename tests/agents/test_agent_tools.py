"""The tool-calling loop: specs sent, calls run (concurrently), results and errors fed back."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from agent_testkit import Events, FakeTools, fail, make_agent

from llmspell.agents.tool_invoker import RegistryToolInvoker
from llmspell.agents.tool_loop import ToolSet
from llmspell.core.errors import ToolError, ToolNotFound, ValidationError
from llmspell.core.types import Capabilities, ToolCall
from llmspell.providers.scripted import ScriptedProvider
from llmspell.tools.builtin.calculator import Calculator
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry


def calls(*pairs: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"tool_calls": [{"name": n, "arguments": a} for n, a in pairs]}


async def test_tool_call_then_final_answer() -> None:
    tools = FakeTools({"adder": lambda p: p["a"] + p["b"]})
    provider = ScriptedProvider([calls(("adder", {"a": 2, "b": 3})), "The sum is 5."])
    agent, _ = make_agent(provider, tools=tools, allowed_tools=["adder"])
    output = await agent.execute("2+3?")
    assert output["text"] == "The sum is 5."
    assert tools.calls == [("adder", {"a": 2, "b": 3})]
    assert output["metadata"]["tool_call_count"] == 1
    (record,) = output["tool_calls"]
    assert record["name"] == "adder" and record["arguments"] == {"a": 2, "b": 3}
    assert record["result"]["result"] == 5
    first, second = provider.requests
    assert [t.name for t in first.tools or []] == ["adder"]
    assert [m.role for m in second.messages] == ["user", "assistant", "tool"]
    assert second.messages[2].content == "5"
    assert second.messages[2].tool_call_id == second.messages[1].tool_calls[0].id  # type: ignore[index]
    assert agent.get_metrics()["tool_invocations"] == 1
    assert [m["role"] for m in agent.get_history()] == ["user", "assistant", "tool", "assistant"]


async def test_several_calls_at_once_run_concurrently() -> None:
    tools = FakeTools({"slow": lambda p: p["n"]}, delay=0.2)
    provider = ScriptedProvider(
        [calls(("slow", {"n": 1}), ("slow", {"n": 2}), ("slow", {"n": 3})), "done"]
    )
    agent, _ = make_agent(provider, tools=tools, allowed_tools=["slow"])
    started = time.perf_counter()
    output = await agent.execute("go")
    elapsed = time.perf_counter() - started
    assert tools.max_running == 3
    assert elapsed < 0.5
    assert [c["result"]["result"] for c in output["tool_calls"]] == [1, 2, 3]
    tool_messages = [m for m in provider.requests[1].messages if m.role == "tool"]
    assert [m.content for m in tool_messages] == ["1", "2", "3"]


async def test_tool_errors_go_back_to_the_model() -> None:
    tools = FakeTools({"broken": fail("disk on fire"), "ok": lambda p: "fine"})
    provider = ScriptedProvider(
        [
            calls(("broken", {}), ("missing", {}), ("ok", {})),
            "I could not do it all.",
        ]
    )
    events = Events()
    agent, _ = make_agent(provider, tools=tools, allowed_tools=["broken", "ok"], events=events)
    output = await agent.execute("try")
    assert output["text"] == "I could not do it all."
    contents = [m.text for m in provider.requests[1].messages if m.role == "tool"]
    assert contents[0] == "Error: ToolError: disk on fire"
    assert contents[1].startswith("Error: ToolNotFound: agent 'helper' has no tool 'missing'")
    assert contents[2] == "fine"
    assert [c["result"]["success"] for c in output["tool_calls"]] == [False, False, True]
    tool_events = [d for t, d in events.published if t == "agent.tool.called"]
    assert [e["success"] for e in tool_events] == [False, False, True]


async def test_arguments_that_are_not_json_are_reported_to_the_model() -> None:
    tools = FakeTools({"echo": lambda p: p})
    toolset = ToolSet("helper", tools, ["echo"])
    await toolset.specs()
    (outcome,) = await toolset.run([ToolCall(id="c1", name="echo", raw_arguments="{oops")])
    assert not outcome.success
    assert "not a JSON object" in outcome.message().text
    assert tools.calls == []


async def test_max_tool_calls_stops_the_loop() -> None:
    tools = FakeTools({"again": lambda p: "more"})
    provider = ScriptedProvider([{**calls(("again", {})), "times": 5}])
    agent, _ = make_agent(provider, tools=tools, allowed_tools=["again"], max_tool_calls=3)
    with pytest.raises(ToolError) as err:
        await agent.execute("loop")
    assert err.value.lua_message() == "ToolError: agent 'helper' exceeded max_tool_calls (3)"
    assert len(tools.calls) == 3
    assert agent.get_history() == []


async def test_streaming_reports_tool_progress_and_completion() -> None:
    tools = FakeTools({"adder": lambda p: p["a"] + p["b"]})
    provider = ScriptedProvider([calls(("adder", {"a": 1, "b": 1})), {"chunks": ["two"]}])
    agent, _ = make_agent(provider, tools=tools, allowed_tools=["adder"])
    chunks = [c async for c in agent.stream("1+1")]
    kinds = [c["content"]["type"] for c in chunks]
    assert kinds == [
        "tool_call_progress",
        "tool_call_progress",
        "tool_call_complete",
        "text",
        "control",
    ]
    progress = [c["content"] for c in chunks[:2]]
    assert progress[0]["tool_id"] == progress[1]["tool_id"]
    assert progress[0]["name"] == "adder"
    assert json.loads(progress[0]["partial_args"] + progress[1]["partial_args"]) == {"a": 1, "b": 1}
    complete = chunks[2]["content"]
    assert complete["tool_id"] == progress[0]["tool_id"]
    assert complete["result"]["result"] == 2
    assert chunks[-1]["content"]["data"]["tool_call_count"] == 1


async def test_direct_tool_use_and_discovery() -> None:
    tools = FakeTools({"adder": lambda p: p["a"] + p["b"], "other": lambda p: 0})
    agent, _ = make_agent(tools=tools, allowed_tools=["adder"])
    assert agent.has_tool("adder") and not agent.has_tool("other")
    assert await agent.discover_tools() == [
        {"name": "adder", "description": "the adder tool", "parameters": {"type": "object"}}
    ]
    assert (await agent.invoke_tool("adder", {"a": 1, "b": 2}))["result"] == 3
    with pytest.raises(ToolNotFound, match="allowed tools: adder"):
        await agent.invoke_tool("other", {})
    assert agent.get_metrics()["tool_invocations"] == 2


async def test_allowed_tools_need_tool_access_and_tool_support() -> None:
    with pytest.raises(ValidationError, match="no tool access"):
        make_agent(allowed_tools=["calculator"])
    provider = ScriptedProvider(["x"], capabilities=Capabilities(tools=False))
    agent, _ = make_agent(provider, tools=FakeTools({"t": lambda p: 1}), allowed_tools=["t"])
    with pytest.raises(ValidationError, match="does not support tool calling"):
        await agent.execute("q")
    assert provider.requests == []


async def test_registry_invoker_runs_real_tools_under_the_policy() -> None:
    registry = ToolRegistry()
    registry.register(Calculator())
    invoker = RegistryToolInvoker(registry, lambda: PermissionPolicy().context())
    provider = ScriptedProvider(
        [calls(("calculator", {"operation": "evaluate", "input": "2 + 2 * 3"})), "It is 8."]
    )
    agent, _ = make_agent(provider, tools=invoker, allowed_tools=["calculator"])
    output = await agent.execute("compute")
    assert output["tool_calls"][0]["result"]["result"]["result"] == 8
    spec = provider.requests[0].tools[0]  # type: ignore[index]
    assert spec.name == "calculator" and spec.parameters["type"] == "object"

    denied = RegistryToolInvoker(
        registry, lambda: PermissionPolicy(tool_rules={"calculator": "deny"}).context()
    )
    provider = ScriptedProvider([calls(("calculator", {"input": "1+1"})), "denied"])
    agent, _ = make_agent(provider, tools=denied, allowed_tools=["calculator"])
    await agent.execute("compute")
    tool_message = provider.requests[1].messages[-1]
    assert tool_message.text.startswith("Error: PermissionDenied:")


async def test_tool_names_the_model_api_rejects_are_mapped() -> None:
    tools = FakeTools({"files.read": lambda p: "content"})
    provider = ScriptedProvider([calls(("files_read", {})), "read it"])
    agent, _ = make_agent(provider, tools=tools, allowed_tools=["files.read"])
    output = await agent.execute("read")
    assert [t.name for t in provider.requests[0].tools or []] == ["files_read"]
    assert tools.calls == [("files.read", {})]
    assert output["tool_calls"][0]["name"] == "files.read"
