"""A run's budget carries its session's totals: earlier runs of the session plus this run."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmspell.agents.budget import Budget, UsageTotals
from llmspell.core.config import load_config
from llmspell.core.errors import BudgetExceeded
from llmspell.run_context import RunContext
from llmspell.services import Services

EARLIER = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120, "cost_usd": 0.5}


def test_a_budget_without_a_session_reports_none() -> None:
    budget = Budget()
    budget.for_agent("writer").charge(3, 1, 0.01)
    assert budget.session is None
    assert budget.session_usage() is None
    assert budget.totals()["session"] is None
    assert budget.totals()["run"]["total_tokens"] == 4


def test_session_totals_are_the_earlier_runs_plus_this_one() -> None:
    budget = Budget()
    writer = budget.for_agent("writer")
    writer.charge(10, 5, 0.25)
    budget.set_session(EARLIER)
    writer.charge(1, 1, 0.125)
    assert budget.session_usage() == {
        "input_tokens": 111,
        "output_tokens": 26,
        "total_tokens": 137,
        "cost_usd": 0.875,
    }
    assert budget.totals()["session"]["calls"] == 2  # calls of this run (EARLIER has none)
    budget.set_session(UsageTotals(input_tokens=1, total_tokens=1))
    assert budget.session_usage() == {
        "input_tokens": 12,
        "output_tokens": 6,
        "total_tokens": 18,
        "cost_usd": 0.375,
    }
    budget.set_session(None)
    assert budget.session_usage() is None


def test_limits_stay_per_run_whatever_the_session_spent() -> None:
    budget = Budget(max_tokens_total=50, session_totals=EARLIER)
    budget.charge(20, 10, None)
    assert budget.exceeded() is None
    assert budget.session_usage()["total_tokens"] == 150  # type: ignore[index]
    with pytest.raises(BudgetExceeded, match="run used 60 tokens, over max_tokens_total 50"):
        budget.charge(20, 10, None)


def finished_run(services: Services, session_id: str, tokens: int) -> None:
    run_id = services.runs.create("script", session_id=session_id)["id"]
    services.runs.start(run_id)
    services.runs.finish(run_id, "completed", input_tokens=tokens, output_tokens=0, cost_usd=0.5)


def test_the_run_context_reads_its_session_from_the_store(tmp_path: Path) -> None:
    services = Services(load_config({"storage": {"path": str(tmp_path / "db")}}, environ={}))
    finished_run(services, "session_a", 100)
    finished_run(services, "session_a", 50)
    finished_run(services, "session_b", 7)
    current: list[str | None] = [None]
    context = RunContext(services, "run_this", session=lambda: current[0])
    services.runs.create("script", run_id="run_this", session_id="session_a")
    services.runs.finish("run_this", "completed", input_tokens=999)  # never counted twice
    context.budget.for_agent("w").charge(1, 1, 0.25)
    assert context.session_usage() is None
    assert "session" not in context.usage()

    current[0] = "session_a"
    assert context.session_id == "session_a"
    assert context.session_usage() == {
        "input_tokens": 151,
        "output_tokens": 1,
        "total_tokens": 152,
        "cost_usd": 1.25,
    }
    context.budget.for_agent("w").charge(1, 0, 0.0)
    assert context.usage()["session"]["input_tokens"] == 152

    current[0] = "session_b"
    assert context.usage()["session"] == {
        "input_tokens": 9,
        "output_tokens": 1,
        "total_tokens": 10,
        "cost_usd": 0.75,
    }


def test_a_store_that_cannot_be_read_leaves_the_session_totals_out(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-database"
    folder.mkdir()
    services = Services(load_config({"storage": {"path": str(folder)}}, environ={}))
    warnings: list[str] = []
    context = RunContext(services, "run_x", session=lambda: "session_a", warn=warnings.append)
    assert context.session_usage() is None
    assert context.session_usage() is None
    assert len(warnings) == 1 and "totals of session 'session_a' not available" in warnings[0]
