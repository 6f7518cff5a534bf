"""A run's audit records: made when the call ends, written in batches (one transaction each)
when the loop gets control, when the buffer is full or old, and when the run ends."""

from __future__ import annotations

import asyncio

import pytest

from llmspell import Host
from llmspell.core.errors import StateError
from llmspell.state import run_audit
from llmspell.state.audit import AuditLog
from llmspell.state.run_audit import FLUSH_RECORDS, RunAudit
from llmspell.state.store import Store


def record(audit: RunAudit, i: int = 0) -> None:
    audit.record("tool.execute", actor="tool:x", outcome="success", arguments={"i": i})


def count(store: Store) -> int:
    return len(AuditLog(store).list(limit=1000))


async def test_records_are_written_together_when_the_loop_gets_control(store: Store) -> None:
    audit = RunAudit(lambda: store, "run_a")
    for i in range(3):
        record(audit, i)
    assert count(store) == 0
    await asyncio.sleep(0)
    rows = AuditLog(store).list()
    assert [(r["seq"], r["run_id"], r["arguments"]) for r in rows] == [
        (1, "run_a", {"i": 0}),
        (2, "run_a", {"i": 1}),
        (3, "run_a", {"i": 2}),
    ]
    assert AuditLog(store).verify()[0]


async def test_a_full_buffer_is_written_at_once(store: Store) -> None:
    audit = RunAudit(lambda: store, "run_a")
    for i in range(FLUSH_RECORDS + 1):
        record(audit, i)
    assert count(store) == FLUSH_RECORDS


async def test_an_old_record_is_written_with_the_next_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_audit, "FLUSH_SECONDS", 0.0)
    audit = RunAudit(lambda: store, "run_a")
    record(audit)
    record(audit)
    assert count(store) == 2


def test_without_a_loop_each_record_is_written_at_once(store: Store) -> None:
    audit = RunAudit(lambda: store, "run_a")
    record(audit)
    assert count(store) == 1


async def test_each_record_keeps_the_session_and_arguments_of_its_call(store: Store) -> None:
    session = ["s1"]
    params = {"input": "1"}
    audit = RunAudit(lambda: store, "run_a", session=lambda: session[0])
    audit.record("tool.execute", actor="tool:x", outcome="success", arguments=params)
    session[0], params["input"] = "s2", "2"
    audit.record("tool.execute", actor="tool:x", outcome="success", arguments=params)
    audit.flush()
    rows = AuditLog(store).list()
    assert [(r["session_id"], r["arguments"]["input"]) for r in rows] == [("s1", "1"), ("s2", "2")]


async def test_a_batch_that_cannot_be_written_warns_once() -> None:
    warnings: list[str] = []

    def broken() -> Store:
        raise StateError("database is read-only")

    audit = RunAudit(broken, "run_a", warn=warnings.append)
    record(audit)
    audit.flush()
    record(audit)
    audit.flush()
    assert warnings == ["warning: audit records of run run_a not written: database is read-only\n"]


def test_a_run_writes_its_records_when_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(audit: RunAudit) -> None:
        """The loop never comes back to the records."""

    monkeypatch.setattr(RunAudit, "_flush_soon", never)
    host = Host({"storage": {"backend": "memory"}}, record_runs=False)
    result = host.run('Tool.execute("calculator", {input = "1+1"})')
    assert result.status == "ok", result.error
    rows = AuditLog(host.services.store).list(run_id=result.execution_id)
    assert [(r["actor"], r["outcome"]) for r in rows] == [("tool:calculator", "success")]


async def test_a_cancelled_run_writes_its_records(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(audit: RunAudit) -> None:
        """The loop never comes back to the records."""

    monkeypatch.setattr(RunAudit, "_flush_soon", never)
    host = Host({"storage": {"backend": "memory"}}, record_runs=False)
    task = asyncio.create_task(
        host.run_async('Tool.execute("calculator", {input = "1+1"}); sleep(30)')
    )
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = AuditLog(host.services.store).list()
    assert [(r["actor"], r["outcome"]) for r in rows] == [("tool:calculator", "success")]
