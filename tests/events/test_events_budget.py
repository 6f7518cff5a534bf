from __future__ import annotations

import asyncio

import pytest

from llmspell.agents.budget import Budget, UsageTotals
from llmspell.core.errors import BudgetExceeded, ValidationError
from llmspell.events import EventBus


def test_totals_per_agent_run_and_session() -> None:
    budget = Budget(session_totals={"calls": 2, "input_tokens": 100, "cost_usd": 0.5})
    writer = budget.for_agent("writer")
    writer.charge(10, 5, 0.01)
    writer.charge(20, 10, 0.02)
    budget.for_agent("critic").charge(1, 1, None)
    totals = budget.totals()
    assert totals["run"] == {
        "calls": 3,
        "input_tokens": 31,
        "output_tokens": 16,
        "total_tokens": 47,
        "cost_usd": pytest.approx(0.03),
    }
    assert totals["agents"]["writer"]["total_tokens"] == 45
    assert totals["agents"]["critic"]["cost_usd"] == 0.0
    assert totals["session"]["calls"] == 5
    assert totals["session"]["input_tokens"] == 131
    assert totals["session"]["cost_usd"] == pytest.approx(0.53)
    assert writer.totals()["calls"] == 2
    assert budget.agent_totals("nobody")["calls"] == 0
    assert totals["remaining"] == {"cost_usd": None, "tokens": None}


def test_cost_limit_stops_the_run_with_a_clear_message() -> None:
    bus = EventBus()
    sub = bus.subscribe("budget.*")
    budget = Budget(max_cost_usd=0.05, events=bus)
    agent = budget.for_agent("writer")
    agent.charge(10, 10, 0.03)
    assert budget.remaining()["cost_usd"] == pytest.approx(0.02)
    with pytest.raises(BudgetExceeded) as info:
        agent.charge(10, 10, 0.03)
    message = info.value.lua_message()
    assert message.startswith("BudgetExceeded: budget exceeded: run cost $0.060000")
    assert "max_cost_usd $0.050000" in message and "agent 'writer'" in message
    assert budget.run.calls == 2
    with pytest.raises(BudgetExceeded):
        budget.check()
    event = asyncio.run(bus.receive(sub, 0))
    assert event is not None and event["type"] == "budget.exceeded"


def test_token_limit() -> None:
    budget = Budget.from_data({"max_tokens_total": 100})
    budget.charge(50, 50, 0.0)
    budget.check()
    with pytest.raises(BudgetExceeded, match="run used 101 tokens, over max_tokens_total 100"):
        budget.charge(1, 0, 0.0)


def test_bad_limits_and_charges_name_the_field() -> None:
    with pytest.raises(ValidationError, match="unknown key 'max_dollars'"):
        Budget.from_data({"max_dollars": 1})
    with pytest.raises(ValidationError, match="max_cost_usd"):
        Budget(max_cost_usd=-1)
    with pytest.raises(ValidationError, match="max_tokens_total"):
        Budget(max_tokens_total=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="input_tokens"):
        Budget().charge(-1, 0, 0.0)
    with pytest.raises(ValidationError, match=r"session_totals\.calls"):
        UsageTotals.from_data({"calls": "many"}, "session_totals")


async def test_agent_stops_when_its_budget_is_spent() -> None:
    from llmspell.agents.agent import Agent
    from llmspell.agents.config import AgentConfig
    from llmspell.providers.scripted import ScriptedProvider

    provider = ScriptedProvider(
        [
            {"text": "one", "usage": {"input_tokens": 40, "output_tokens": 10}},
            {"text": "two", "usage": {"input_tokens": 40, "output_tokens": 10}},
        ]
    )
    budget = Budget(max_tokens_total=60)
    agent = Agent(AgentConfig(name="spender"), provider, budget=budget.for_agent("spender"))
    assert (await agent.execute("hi"))["text"] == "one"
    with pytest.raises(BudgetExceeded, match="max_tokens_total 60"):
        await agent.execute("again")
    assert budget.totals()["agents"]["spender"]["total_tokens"] == 100
