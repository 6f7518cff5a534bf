"""``run.*`` events reach the host's subscribers."""

from __future__ import annotations

import asyncio

from llmspell import Host


def test_run_events_for_ok_and_failed_runs():
    host = Host({"storage": {"backend": "memory"}})
    bus = host.services.events
    sub = bus.subscribe("run.*")
    ok = host.run("return 1")
    failed = host.run("error('boom')")

    async def drain():
        events = []
        while (event := await bus.receive(sub, 0)) is not None:
            events.append(event)
        return events

    events = asyncio.run(drain())
    kinds = [(e["type"], e["data"]["execution_id"]) for e in events]
    assert kinds == [
        ("run.started", ok.execution_id),
        ("run.completed", ok.execution_id),
        ("run.started", failed.execution_id),
        ("run.failed", failed.execution_id),
    ]
    assert events[3]["data"]["error_kind"] == "runtime"
