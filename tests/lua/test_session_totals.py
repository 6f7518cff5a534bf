"""``agent:get_metrics().session``, ``result.metrics["session"]`` and the run record's session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from state_testkit import ok

from llmspell import Host
from llmspell.core.config import load_config

REPLY = {"text": "fact", "usage": {"input_tokens": 6, "output_tokens": 2}}
ONE_CALL = """
    local agent = Agent.create{name = "writer", model = "test/scripted"}
    agent:execute("a fact, please")
    local m = agent:getMetrics()
    return {session = m.session, tokens = m.total_tokens}
"""


def make_host(tmp_path: Path, calls: int = 10) -> Host:
    options = {"replies": [REPLY] * calls}
    return Host(
        load_config(
            {
                "storage": {"path": str(tmp_path / "llmspell.db")},
                "default_provider": "test",
                "providers": {"test": {"provider_type": "scripted", "options": options}},
            },
            environ={},
        )
    )


def session_of(host: Host, run_id: str) -> Any:
    record = host.services.runs.get(run_id)
    assert record is not None
    return record["session_id"]


def test_session_totals_carry_across_the_runs_of_a_session(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    first = host.run(ONE_CALL, session="s1")
    assert ok(first)["session"] == {
        "input_tokens": 6,
        "output_tokens": 2,
        "total_tokens": 8,
        "cost_usd": 0,
    }
    second = host.run(ONE_CALL, session="s1")
    assert ok(second)["session"]["total_tokens"] == 16
    assert second.metrics["session"] == {
        "input_tokens": 12,
        "output_tokens": 4,
        "total_tokens": 16,
        "cost_usd": 0.0,
    }
    assert second.metrics["input_tokens"] == 6  # the run's own totals stay the run's
    session_id = host.services.sessions.find("s1")["id"]  # type: ignore[index]
    assert session_of(host, first.execution_id) == session_of(host, second.execution_id)
    assert session_of(host, second.execution_id) == session_id
    other = host.run(ONE_CALL, session="s2")
    assert ok(other)["session"]["total_tokens"] == 8


def test_a_run_without_a_session_has_no_session_totals(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    host.run(ONE_CALL, session="s1")
    result = host.run(ONE_CALL)
    value = ok(result)
    assert "session" not in value and value["tokens"] == 8
    assert "session" not in result.metrics
    assert session_of(host, result.execution_id) is None


def test_a_run_that_moves_to_a_session_counts_there(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    host.run(ONE_CALL, session="target")
    moved = host.run(
        """
        local agent = Agent.create{name = "writer", model = "test/scripted"}
        agent:execute("one")
        local before = agent:get_metrics().session
        Session.set_current("target")
        return {before = before, after = agent:get_metrics().session}
        """
    )
    value = ok(moved)
    assert "before" not in value and value["after"]["total_tokens"] == 16
    target = host.services.sessions.find("target")["id"]  # type: ignore[index]
    assert session_of(host, moved.execution_id) == target
    assert host.services.runs.session_totals(target)["runs"] == 2
    left = host.run("Session.set_current(nil) return 1", session="target")
    assert ok(left) == 1
    assert session_of(host, left.execution_id) is None


def test_session_cost_adds_up_the_priced_runs(tmp_path: Path, mock_server: Any) -> None:
    host = Host(
        load_config(
            {
                "storage": {"path": str(tmp_path / "llmspell.db")},
                "providers": {
                    "mock": {
                        "provider_type": "openai",
                        "base_url": mock_server.base_url,
                        "api_key": "test-key",
                        "default_model": "gpt-4o-mini",
                    }
                },
            },
            environ={},
        )
    )
    script = """
        local agent = Agent.create{name = "priced", model = "mock/gpt-4o-mini"}
        agent:execute("hi")
        return agent:get_metrics().session
    """
    costs = []
    for _ in range(2):
        mock_server.script.push(
            {"text": "x", "usage": {"input_tokens": 1000, "output_tokens": 500}}
        )
        result = host.run(script, session="priced")
        costs.append(result.metrics["cost_usd"])
        session = ok(result)
    assert costs[0] > 0 and costs[1] == costs[0]
    assert session["cost_usd"] == round(costs[0] + costs[1], 6)
    assert session["total_tokens"] == 3000


def test_runs_in_a_worker_process_count_their_tokens_too(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    host.run(ONE_CALL, session="s1")
    second = host.run(ONE_CALL, session="s1", isolation="process")
    assert second.status == "ok", second.error
    assert second.metrics["input_tokens"] == 6  # the agent ran in the parent, which counts
    assert second.metrics["session"]["total_tokens"] == 16
    record = host.services.runs.get(second.execution_id)
    assert record is not None and record["input_tokens"] == 6
