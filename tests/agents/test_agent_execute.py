"""Agent.execute: output shape, conversation, metrics, state, and the optional collaborators."""

from __future__ import annotations

from typing import Any

import pytest
from agent_testkit import Budget, Events, KeepLast, MemoryConversations, make_agent

from llmspell.agents.budget import Budget as RunBudget
from llmspell.core.errors import (
    BudgetExceeded,
    Cancelled,
    LimitExceeded,
    RateLimited,
    ValidationError,
)
from llmspell.events import HookRegistry
from llmspell.providers.scripted import ScriptedProvider


async def test_output_has_the_spec_shape() -> None:
    agent, _ = make_agent(
        ScriptedProvider([{"text": "Paris", "usage": {"input_tokens": 7, "output_tokens": 1}}])
    )
    output = await agent.execute("Capital of France?")
    assert set(output) == {"text", "media", "tool_calls", "metadata"}
    assert output["text"] == "Paris"
    assert output["media"] == []
    assert output["tool_calls"] == []
    metadata = output["metadata"]
    assert set(metadata) == {
        "model",
        "provider",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "cost_usd",
        "duration_ms",
        "finish_reason",
        "tool_call_count",
    }
    assert metadata["model"] == "test-model"
    assert metadata["provider"] == "scripted"
    assert (metadata["input_tokens"], metadata["output_tokens"], metadata["total_tokens"]) == (
        7,
        1,
        8,
    )
    assert metadata["finish_reason"] == "stop"
    assert metadata["tool_call_count"] == 0
    assert metadata["duration_ms"] >= 0


async def test_request_carries_prompt_history_and_settings() -> None:
    agent, provider = make_agent(
        ScriptedProvider(["one", "two"]), system_prompt="Be brief.", temperature=0.2, max_tokens=50
    )
    await agent.execute("first")
    await agent.execute({"text": "second", "parameters": {"temperature": 0.9, "seed": 3}})
    first, second = provider.requests
    assert [m.role for m in first.messages] == ["system", "user"]
    assert first.temperature == 0.2 and first.max_tokens == 50 and first.model == "test-model"
    assert [(m.role, m.text) for m in second.messages] == [
        ("system", "Be brief."),
        ("user", "first"),
        ("assistant", "one"),
        ("user", "second"),
    ]
    assert second.temperature == 0.9
    assert second.extra == {"seed": 3}


async def test_history_is_bounded_and_keeps_the_system_prompt() -> None:
    agent, provider = make_agent(
        ScriptedProvider(echo=True), system_prompt="sys", max_conversation_length=4
    )
    for word in ("a", "b", "c", "d"):
        await agent.execute(word)
    history = agent.get_history()
    assert [m["content"] for m in history] == ["c", "c", "d", "d"]
    last = provider.requests[-1]
    assert last.messages[0].text == "sys"
    assert [m.text for m in last.messages[1:]] == ["b", "b", "c", "c", "d"]
    agent.clear_history()
    assert agent.get_history() == []
    await agent.execute("e")
    assert [m.text for m in provider.requests[-1].messages] == ["sys", "e"]


async def test_metrics_count_calls_failures_and_tokens() -> None:
    provider = ScriptedProvider(
        [
            {"text": "x", "usage": {"input_tokens": 3, "output_tokens": 2}},
            {"error": "rate_limited"},
            {"text": "y", "usage": {"input_tokens": 4, "output_tokens": 1}},
        ]
    )
    agent, _ = make_agent(provider)
    await agent.execute("1")
    with pytest.raises(RateLimited):
        await agent.execute("2")
    await agent.execute("3")
    assert agent.get_metrics() == {
        "requests_total": 3,
        "requests_failed": 1,
        "tool_invocations": 0,
        "input_tokens": 7,
        "output_tokens": 3,
        "total_tokens": 10,
        "cost_usd": 0.0,
    }
    assert [m["content"] for m in agent.get_history()] == ["1", "x", "3", "y"]


async def test_invalid_input_is_rejected_before_any_request() -> None:
    agent, provider = make_agent()
    with pytest.raises(ValidationError, match="input"):
        await agent.execute("")
    with pytest.raises(ValidationError, match=r"input\.parameters\.temperature"):
        await agent.execute({"text": "x", "parameters": {"temperature": 9}})
    with pytest.raises(ValidationError, match="output_modalities"):
        await agent.execute({"text": "x", "output_modalities": ["image"]})
    with pytest.raises(ValidationError, match="input must be a string or a table"):
        await agent.execute(42)  # type: ignore[arg-type]
    assert provider.requests == []
    assert agent.get_metrics()["requests_failed"] == 4


async def test_state_round_trip() -> None:
    agent, _ = make_agent(ScriptedProvider(["hello"]), api_key="sk-1")
    await agent.execute("hi")
    state = agent.get_state()
    assert state["config"]["api_key"] == "***"
    other, provider = make_agent(ScriptedProvider(["again"]))
    other.load_state(state)
    assert other.get_history() == agent.get_history()
    assert other.get_metrics() == agent.get_metrics()
    await other.execute("more")
    assert [m.text for m in provider.requests[0].messages] == ["hi", "hello", "more"]
    with pytest.raises(ValidationError, match=r"state\.history\[0\]\.role"):
        other.load_state({"history": [{"role": "robot", "content": "x"}]})
    with pytest.raises(ValidationError, match=r"state\.metrics\.requests_total"):
        other.load_state({"metrics": {"requests_total": -1}})
    with pytest.raises(ValidationError, match=r"state\.extra"):
        other.load_state({"extra": 1})


async def test_get_config_is_the_real_config_with_secrets_redacted() -> None:
    agent, _ = make_agent(api_key="sk-live-123", custom_config={"password": "p", "depth": 2})
    config = agent.get_config()
    assert config["api_key"] == "***"
    assert config["custom_config"] == {"password": "***", "depth": 2}
    assert config["model"] == "scripted/test-model"
    assert config["name"] == "helper"
    assert "sk-live-123" not in repr(config)


async def test_capability_queries() -> None:
    agent, _ = make_agent()
    assert agent.supports_streaming() and agent.supports_multimodal()
    assert agent.supported_media_types() == ["text", "image"]
    quiet, _ = make_agent(streaming=False)
    assert not quiet.supports_streaming()


async def test_events_are_published() -> None:
    events = Events()
    agent, _ = make_agent(ScriptedProvider(["ok", {"error": "unavailable"}]), events=events)
    await agent.execute("a")
    with pytest.raises(Exception, match="injected"):
        await agent.execute("b")
    assert events.types() == [
        "agent.execution.started",
        "agent.execution.completed",
        "agent.execution.started",
        "agent.execution.failed",
    ]
    completed = events.published[1][1]
    assert completed["agent"] == "helper" and completed["total_tokens"] > 0
    failed = events.published[3][1]
    assert failed["error_kind"] == "ProviderUnavailable"
    assert failed["error"].startswith("ProviderUnavailable:")


async def test_budget_is_checked_and_charged() -> None:
    budget = Budget()
    agent, _ = make_agent(
        ScriptedProvider([{"text": "x", "usage": {"input_tokens": 5, "output_tokens": 2}}]),
        budget=budget,
    )
    await agent.execute("a")
    assert budget.charges == [(5, 2, 0.0)]
    assert budget.checks == 1


async def test_an_exhausted_run_budget_stops_calls_before_they_are_sent() -> None:
    run_budget = RunBudget(max_tokens_total=10)
    agent, provider = make_agent(
        ScriptedProvider([{"text": "x", "usage": {"input_tokens": 9, "output_tokens": 3}}, "y"]),
        budget=run_budget.for_agent("helper"),
    )
    with pytest.raises(BudgetExceeded):
        await agent.execute("a")
    assert agent.get_history() == []
    with pytest.raises(BudgetExceeded):
        await agent.execute("b")
    assert len(provider.requests) == 1
    assert run_budget.agent_totals("helper")["total_tokens"] == 12


async def test_context_manager_shapes_each_request() -> None:
    context = KeepLast(1)
    agent, provider = make_agent(ScriptedProvider(echo=True), system_prompt="s", context=context)
    await agent.execute("a")
    await agent.execute("b")
    assert context.seen == [2, 4]
    assert [m.text for m in provider.requests[1].messages] == ["s", "b"]
    assert len(agent.get_history()) == 4
    assert [(sent, out) for sent, _, out in context.usage] == [(2, 1), (2, 1)]
    summary = await agent.summarize()
    assert [m["content"] for m in summary] == ["summary", "b"]
    assert len(agent.get_history()) == 4
    plain, _ = make_agent()
    with pytest.raises(ValidationError, match="no context management"):
        await plain.summarize()


async def test_conversation_store_loads_and_appends() -> None:
    store = MemoryConversations(
        {
            "helper": [
                {"role": "user", "content": "earlier"},
                {"role": "assistant", "content": "noted"},
            ]
        }
    )
    agent, provider = make_agent(ScriptedProvider(["fine"]), conversation_store=store)
    assert [m["content"] for m in agent.get_history()] == ["earlier", "noted"]
    await agent.execute("now")
    assert [m.text for m in provider.requests[0].messages] == ["earlier", "noted", "now"]
    assert [m["content"] for m in store.saved["helper"]] == ["earlier", "noted", "now", "fine"]


async def test_max_execution_time_stops_a_slow_call() -> None:
    agent, _ = make_agent(
        ScriptedProvider([{"text": "late", "delay": 1.0}]), max_execution_time=0.05
    )
    with pytest.raises(LimitExceeded, match=r"exceeded max_execution_time \(0.05 s\)") as err:
        await agent.execute("hurry")
    assert err.value.error_kind == "timeout"


# --- hooks ---------------------------------------------------------------------------------


async def test_before_hook_modifies_input_and_after_hook_modifies_output() -> None:
    hooks = HookRegistry()

    def before(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"type": "modified", "data": {"input": ctx["data"]["input"].upper()}}

    def after(ctx: dict[str, Any]) -> dict[str, Any]:
        output = dict(ctx["data"]["output"])
        output["text"] += "!"
        return {"type": "modified", "data": {"output": output}}

    hooks.register("BeforeAgentExecution", before)
    hooks.register("AfterAgentExecution", after)
    agent, provider = make_agent(ScriptedProvider(echo=True), hooks=hooks)
    output = await agent.execute("shout")
    assert provider.requests[0].messages[-1].text == "SHOUT"
    assert output["text"] == "SHOUT!"


async def test_before_hook_can_replace_or_cancel_the_call() -> None:
    hooks = HookRegistry()
    hooks.register(
        "BeforeAgentExecution", lambda ctx: {"type": "replace", "data": {"text": "cached"}}
    )
    agent, provider = make_agent(hooks=hooks)
    output = await agent.execute("anything")
    assert output["text"] == "cached" and set(output) >= {"metadata", "tool_calls"}
    assert provider.requests == []

    cancelling = HookRegistry()
    cancelling.register("BeforeAgentExecution", lambda ctx: "not today")
    agent, provider = make_agent(hooks=cancelling)
    with pytest.raises(Cancelled, match="not today"):
        await agent.execute("x")
    assert provider.requests == [] and agent.get_metrics()["requests_failed"] == 1


async def test_error_hook_sees_the_error_and_may_recover_or_retry() -> None:
    hooks = HookRegistry()
    seen: list[dict[str, Any]] = []

    def on_error(ctx: dict[str, Any]) -> Any:
        seen.append(ctx["data"])
        return {"type": "replace", "data": "fallback answer"}

    hooks.register("AgentError", on_error)
    agent, _ = make_agent(ScriptedProvider([{"error": "unavailable"}]), hooks=hooks)
    output = await agent.execute("q")
    assert output["text"] == "fallback answer"
    assert seen[0]["error_kind"] == "ProviderUnavailable"

    retrying = HookRegistry()
    retrying.register("AgentError", lambda ctx: {"type": "retry", "attempts": 2})
    retrying.register(
        "BeforeAgentExecution",
        lambda ctx: {"type": "modified", "data": {"input": ctx["data"]["input"] + "!"}},
    )
    agent, provider = make_agent(
        ScriptedProvider([{"error": "unavailable", "times": 2}, "third time lucky"]),
        hooks=retrying,
    )
    assert (await agent.execute("q"))["text"] == "third time lucky"
    assert [r.messages[-1].text for r in provider.requests] == ["q!", "q!", "q!"]

    agent, _ = make_agent(ScriptedProvider([{"error": "unavailable", "times": 5}]), hooks=retrying)
    with pytest.raises(Exception, match="injected"):
        await agent.execute("q")
    assert agent.get_metrics()["requests_failed"] == 1
