from __future__ import annotations

import os
import subprocess
import sys

import pytest

from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.state.runs import RunStore, args_hash
from llmspell.state.store import Store


def test_lifecycle(store: Store) -> None:
    runs = RunStore(store)
    run = runs.create("script", script="hello.lua", args={"k": "v"})
    assert run["id"].startswith("run_")
    assert run["status"] == "pending"
    assert run["args_hash"] == args_hash({"k": "v"}) != args_hash({"k": "w"})
    started = runs.start(run["id"])
    assert started["status"] == "running"
    assert started["pid"] == os.getpid()
    done = runs.finish(
        run["id"],
        "failed",
        error="boom",
        error_kind="runtime",
        input_tokens=11,
        output_tokens=6,
        cost_usd=0.5,
    )
    assert done["status"] == "failed"
    assert (done["error"], done["error_kind"]) == ("boom", "runtime")
    assert (done["input_tokens"], done["output_tokens"], done["cost_usd"]) == (11, 6, 0.5)
    assert done["ended_at"] >= done["started_at"] >= done["created_at"]
    final = runs.finish(run["id"], "completed", input_tokens=100)
    assert final["input_tokens"] == 100
    assert final["output_tokens"] == 6


def test_an_interrupted_run_can_start_again(store: Store) -> None:
    runs = RunStore(store)
    run_id = runs.create("workflow")["id"]
    first = runs.start(run_id)
    runs.finish(run_id, "interrupted", error="SIGTERM", error_kind="cancelled")
    again = runs.start(run_id)
    assert again["status"] == "running"
    assert again["started_at"] == first["started_at"]
    assert again["error"] is None and again["ended_at"] is None
    runs.finish(run_id, "completed")
    with pytest.raises(StateError, match="is completed; only a pending, interrupted or failed"):
        runs.start(run_id)


def test_list_by_status_newest_first(store: Store) -> None:
    runs = RunStore(store)
    ids = [runs.create("exec")["id"] for _ in range(3)]
    runs.start(ids[1])
    assert [r["id"] for r in runs.list()] == ids[::-1]
    assert [r["id"] for r in runs.list(status="running")] == [ids[1]]
    assert [r["id"] for r in runs.list(limit=2)] == ids[:0:-1]
    with pytest.raises(ValidationError, match="run status 'odd' is unknown"):
        runs.list(status="odd")


def test_cancel(store: Store) -> None:
    runs = RunStore(store)
    pending = runs.create("script")["id"]
    running = runs.create("script")["id"]
    runs.start(running)
    assert runs.request_cancel(pending)["status"] == "cancelled"
    assert runs.is_cancel_requested(running) is False
    assert runs.request_cancel(running)["status"] == "running"
    assert runs.is_cancel_requested(running) is True
    runs.finish(running, "cancelled")
    with pytest.raises(StateError, match="already ended \\(cancelled\\)"):
        runs.request_cancel(running)
    with pytest.raises(NotFoundError, match="run 'run_nope' not found"):
        runs.request_cancel("run_nope")


def test_runs_whose_process_died_are_marked_interrupted(store: Store) -> None:
    runs = RunStore(store)
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = runs.create("script")["id"]
    runs.start(dead, pid=int(child.stdout))
    alive = runs.create("script")["id"]
    runs.start(alive)
    assert runs.mark_abandoned() == 1
    record = runs.get(dead)
    assert record is not None
    assert record["status"] == "interrupted"
    assert record["error_kind"] == "killed"
    assert runs.get(alive)["status"] == "running"  # type: ignore[index]


def test_invalid_arguments(store: Store) -> None:
    runs = RunStore(store)
    with pytest.raises(ValidationError, match="run kind 'job' is unknown"):
        runs.create("job")
    with pytest.raises(ValidationError, match="run arguments must be JSON-shaped"):
        runs.create("script", args={"x": object()})
    run_id = runs.create("script")["id"]
    with pytest.raises(ValidationError, match="run end status 'running' is unknown"):
        runs.finish(run_id, "running")
    with pytest.raises(NotFoundError):
        runs.set_session("run_nope", "session_a")
    assert runs.get("run_nope") is None
