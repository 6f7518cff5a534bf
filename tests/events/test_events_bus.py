from __future__ import annotations

import asyncio
import threading

import pytest

from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.events import EventBus, correlation_scope, current_correlation_id


def drain(bus: EventBus, sub: str) -> list[str]:
    async def collect() -> list[str]:
        out = []
        while (event := await bus.receive(sub, 0)) is not None:
            out.append(event["type"])
        return out

    return asyncio.run(collect())


def test_glob_patterns_select_event_types() -> None:
    bus = EventBus()
    agent = bus.subscribe("agent.*")
    failed = bus.subscribe("*.failed")
    everything = bus.subscribe("*")
    exact = bus.subscribe("tool.called")
    for kind in ("agent.execution.started", "tool.called", "workflow.step.failed", "run.failed"):
        bus.publish(kind, {})
    assert drain(bus, agent) == ["agent.execution.started"]
    assert drain(bus, failed) == ["workflow.step.failed", "run.failed"]
    assert len(drain(bus, everything)) == 4
    assert drain(bus, exact) == ["tool.called"]


async def test_event_shape_and_data_copy() -> None:
    bus = EventBus()
    sub = bus.subscribe("x.*")
    data = {"a": 1}
    bus.publish("x.y", data, source="test")
    data["a"] = 2
    event = await bus.receive(sub, 0)
    assert event is not None
    assert event["type"] == "x.y"
    assert event["data"] == {"a": 1}
    assert event["source"] == "test"
    assert event["id"].startswith("evt_")
    assert event["sequence"] >= 1
    assert isinstance(event["timestamp"], float)


async def test_full_queue_drops_oldest_and_counts() -> None:
    bus = EventBus()
    sub = bus.subscribe("n", max_queue=3)
    for i in range(5):
        bus.publish("n", {"i": i})
    info = bus.info(sub)
    assert info["queued"] == 3
    assert info["dropped"] == 2
    got = [(await bus.receive(sub, 0))["data"]["i"] for _ in range(3)]  # type: ignore[index]
    assert got == [2, 3, 4]


async def test_receive_times_out_with_none() -> None:
    bus = EventBus()
    sub = bus.subscribe("*")
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bus.receive(sub, 0.05) is None
    assert loop.time() - started >= 0.04
    assert await bus.receive(sub, 0) is None


async def test_receive_wakes_when_an_event_arrives() -> None:
    bus = EventBus()
    sub = bus.subscribe("ping")
    waiter = asyncio.create_task(bus.receive(sub, 5))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    bus.publish("ping", {"n": 1})
    event = await asyncio.wait_for(waiter, 1)
    assert event is not None and event["data"] == {"n": 1}


async def test_publish_from_another_thread_wakes_receiver() -> None:
    bus = EventBus()
    sub = bus.subscribe("t")
    waiter = asyncio.create_task(bus.receive(sub, 5))
    await asyncio.sleep(0.01)
    thread = threading.Thread(target=bus.publish, args=("t", {"from": "thread"}))
    thread.start()
    event = await asyncio.wait_for(waiter, 1)
    thread.join()
    assert event is not None and event["data"] == {"from": "thread"}


async def test_unsubscribe_ends_pending_receive() -> None:
    bus = EventBus()
    sub = bus.subscribe("*")
    waiter = asyncio.create_task(bus.receive(sub, 5))
    await asyncio.sleep(0.01)
    assert bus.unsubscribe(sub) is True
    assert await asyncio.wait_for(waiter, 1) is None
    assert bus.unsubscribe(sub) is False
    with pytest.raises(NotFoundError, match="subscription"):
        await bus.receive(sub, 0)


async def test_correlation_ids_follow_the_scope() -> None:
    bus = EventBus()
    sub = bus.subscribe("*")
    bus.publish("outside")
    with correlation_scope("run_1") as cid:
        assert current_correlation_id() == cid == "run_1"

        async def inner() -> None:
            bus.publish("in.task")

        await asyncio.create_task(inner())
        with correlation_scope() as nested:
            assert nested.startswith("corr_")
            bus.publish("nested")
        bus.publish("explicit", correlation_id="other")
    assert current_correlation_id() is None
    events = [await bus.receive(sub, 0) for _ in range(4)]
    assert [(e["type"], e["correlation_id"]) for e in events if e] == [
        ("outside", None),
        ("in.task", "run_1"),
        ("nested", nested),
        ("explicit", "other"),
    ]


def test_bad_arguments_are_validation_errors() -> None:
    bus = EventBus()
    with pytest.raises(ValidationError, match="event type"):
        bus.publish("", {})
    with pytest.raises(ValidationError, match="data must be a table"):
        bus.publish("x", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="pattern"):
        bus.subscribe("")
    with pytest.raises(ValidationError, match="max_queue"):
        bus.subscribe("x", max_queue=0)
    sub = bus.subscribe("x")
    with pytest.raises(ValidationError, match="timeout"):
        asyncio.run(bus.receive(sub, -1))


def test_wants_tells_whether_an_event_would_reach_a_subscription() -> None:
    parent = EventBus()
    child = parent.child(correlation_id="run_1")
    assert not child.wants("tool.execution.started")
    sub = parent.subscribe("tool.*")
    assert child.wants("tool.execution.started")
    assert not child.wants("agent.execution.started")
    parent.unsubscribe(sub)
    assert not child.wants("tool.execution.started")
