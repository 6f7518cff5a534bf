from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmspell.core.config import load_config
from llmspell.core.errors import Cancelled, HookError, ToolError, ValidationError
from llmspell.events import (
    HOOK_POINTS,
    EventBus,
    HookRegistry,
    HookRetry,
    HookSkip,
    call_with_hooks,
)

POINT = "BeforeToolExecution"


def returning(value: Any, calls: list[str] | None = None, tag: str = "") -> Any:
    def hook(ctx: dict[str, Any]) -> Any:
        if calls is not None:
            calls.append(tag)
        return value

    return hook


async def test_hooks_run_by_priority_then_registration_order() -> None:
    hooks = HookRegistry()
    order: list[str] = []
    hooks.register(POINT, returning(None, order, "normal-1"))
    hooks.register(POINT, returning(None, order, "low"), priority="low")
    hooks.register(POINT, returning(None, order, "minus-5"), priority=-5)
    hooks.register(POINT, returning(None, order, "highest"), priority="highest")
    hooks.register(POINT, returning(None, order, "normal-2"), priority=0)
    await hooks.fire(POINT, {})
    assert order == ["highest", "minus-5", "normal-1", "normal-2", "low"]


async def test_continue_results_keep_the_data() -> None:
    hooks = HookRegistry()
    for value in (None, True, "continue", {"type": "continue"}):
        hooks.register(POINT, returning(value))
    data = {"tool": "calculator"}
    assert await hooks.fire(POINT, data) == data


async def test_no_hooks_returns_the_same_data() -> None:
    hooks = HookRegistry()
    data = {"tool": "x"}
    assert await hooks.fire(POINT, data) is data


async def test_modified_merges_and_later_hooks_see_it() -> None:
    hooks = HookRegistry()
    seen: list[dict[str, Any]] = []
    hooks.register(POINT, returning({"type": "modified", "data": {"params": {"input": "***"}}}))

    def watcher(ctx: dict[str, Any]) -> dict[str, Any]:
        seen.append(ctx)
        return {"type": "modified", "extra": 1}

    hooks.register(POINT, watcher, priority="low")
    out = await hooks.fire(POINT, {"tool": "t", "params": {"input": "secret"}})
    assert out == {"tool": "t", "params": {"input": "***"}, "extra": 1}
    assert seen[0]["data"]["params"] == {"input": "***"}
    assert seen[0]["point"] == POINT and seen[0]["hook"] == "watcher"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("skip", None),
        ({"type": "skip", "result": 7}, 7),
        ({"type": "replace", "data": {"text": "cached"}}, {"text": "cached"}),
        ({"type": "replace", "result": "r"}, "r"),
    ],
)
async def test_skip_and_replace_stop_the_chain(value: Any, expected: Any) -> None:
    hooks = HookRegistry()
    later: list[str] = []
    hooks.register(POINT, returning(value), name="stopper")
    hooks.register(POINT, returning(None, later, "later"), priority="low")
    with pytest.raises(HookSkip) as info:
        await hooks.fire(POINT, {})
    assert info.value.result == expected
    assert info.value.hook == "stopper" and info.value.point == POINT
    assert later == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not allowed today", "not allowed today"),
        ({"type": "cancel", "reason": "quota"}, "quota"),
        ("cancel", "cancelled by hook 'gate'"),
    ],
)
async def test_cancel_results(value: Any, reason: str) -> None:
    hooks = HookRegistry()
    hooks.register(POINT, returning(value), name="gate")
    with pytest.raises(Cancelled) as info:
        await hooks.fire(POINT, {})
    assert str(info.value) == f"{POINT}: {reason}"


async def test_retry_result_carries_delay_and_attempts() -> None:
    hooks = HookRegistry()
    hooks.register("ToolError", returning({"type": "retry", "delay": 0.5, "attempts": 3}))
    with pytest.raises(HookRetry) as info:
        await hooks.fire("ToolError", {})
    assert (info.value.delay, info.value.attempts) == (0.5, 3)
    hooks = HookRegistry()
    hooks.register("ToolError", returning({"type": "retry", "delay_ms": 250, "max_attempts": 2}))
    with pytest.raises(HookRetry) as info:
        await hooks.fire("ToolError", {})
    assert (info.value.delay, info.value.attempts) == (0.25, 2)


async def test_async_hooks_are_awaited() -> None:
    hooks = HookRegistry()

    async def slow(ctx: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"type": "modified", "data": {"seen": ctx["data"]["n"] + 1}}

    hooks.register(POINT, slow)
    assert await hooks.fire(POINT, {"n": 1}) == {"n": 1, "seen": 2}


async def test_failing_hook_is_reported_and_ignored_when_open() -> None:
    bus = EventBus()
    sub = bus.subscribe("hook.*")
    hooks = HookRegistry(events=bus)

    def broken(ctx: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    hooks.register(POINT, broken)
    hooks.register(POINT, returning(42), name="weird")
    hooks.register(POINT, returning({"type": "modified", "data": {"ok": True}}), priority="low")
    assert await hooks.fire(POINT, {}) == {"ok": True}
    first = await bus.receive(sub, 0)
    second = await bus.receive(sub, 0)
    assert first is not None and second is not None
    assert first["type"] == "hook.failed"
    assert first["data"]["hook"] == "broken" and first["data"]["error"] == "boom"
    assert first["data"]["failure_mode"] == "open"
    assert second["data"]["hook"] == "weird" and "returned 42" in second["data"]["error"]


async def test_failing_hook_fails_the_call_when_closed() -> None:
    bus = EventBus()
    sub = bus.subscribe("hook.failed")
    config = load_config({"security": {"hook_failure": "closed"}}, discover=False, environ={})
    hooks = HookRegistry.from_config(config, events=bus)
    later: list[str] = []
    hooks.register(POINT, lambda ctx: 1 / 0, name="divide")
    hooks.register(POINT, returning(None, later, "later"), priority="low")
    with pytest.raises(HookError, match=r"hook 'divide' at BeforeToolExecution failed"):
        await hooks.fire(POINT, {})
    assert later == []
    event = await bus.receive(sub, 0)
    assert event is not None and event["data"]["failure_mode"] == "closed"


async def test_register_list_and_unregister() -> None:
    hooks = HookRegistry()
    first = hooks.register("before_tool_execution", returning(None), name="a")
    second = hooks.register("AfterAgentExecution", returning(None), 5, "b", language="lua")
    assert first.startswith("hook_")
    assert [h["name"] for h in hooks.list()] == ["b", "a"]
    assert hooks.list(POINT) == [
        {"id": first, "point": POINT, "name": "a", "priority": 0, "language": "python"}
    ]
    assert [h["id"] for h in hooks.list({"language": "lua"})] == [second]
    assert [h["id"] for h in hooks.list({"hook_point": "AfterAgentExecution"})] == [second]
    assert hooks.has_hooks(POINT)
    assert hooks.unregister(first) is True
    assert hooks.unregister(first) is False
    assert hooks.list(POINT) == []
    assert not hooks.has_hooks(POINT)
    assert set(hooks.points) == set(HOOK_POINTS)


def test_bad_registrations_name_the_problem() -> None:
    hooks = HookRegistry()
    with pytest.raises(ValidationError, match="unknown hook point 'BeforeLunch'"):
        hooks.register("BeforeLunch", returning(None))
    with pytest.raises(ValidationError, match="priority"):
        hooks.register(POINT, returning(None), priority="urgent")
    with pytest.raises(ValidationError, match="must be a function"):
        hooks.register(POINT, "nope")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown key 'colour'"):
        hooks.list({"colour": "red"})
    with pytest.raises(ValidationError, match="failure mode"):
        HookRegistry(failure_mode="maybe")  # type: ignore[arg-type]


# --- call_with_hooks ---------------------------------------------------------------------------


async def run(hooks: HookRegistry, call: Any, data: dict[str, Any] | None = None) -> Any:
    return await call_with_hooks(
        hooks,
        before="BeforeToolExecution",
        after="AfterToolExecution",
        error="ToolError",
        data=data or {"tool": "t", "params": {"x": 1}},
        call=call,
    )


async def test_call_with_hooks_passes_modified_input_and_output() -> None:
    hooks = HookRegistry()
    hooks.register("BeforeToolExecution", returning({"type": "modified", "data": {"params": {}}}))
    hooks.register(
        "AfterToolExecution",
        lambda ctx: {"type": "modified", "data": {"result": ctx["data"]["result"] * 10}},
    )
    received: list[dict[str, Any]] = []

    async def call(data: dict[str, Any]) -> int:
        received.append(data)
        return 4

    assert await run(hooks, call) == 40
    assert received == [{"tool": "t", "params": {}}]


async def test_call_with_hooks_skip_and_replace() -> None:
    calls: list[int] = []

    async def call(data: dict[str, Any]) -> str:
        calls.append(1)
        return "real"

    hooks = HookRegistry()
    hooks.register("BeforeToolExecution", returning({"type": "replace", "data": "canned"}))
    assert await run(hooks, call) == "canned"
    assert calls == []
    hooks = HookRegistry()
    hooks.register("AfterToolExecution", returning({"type": "replace", "data": "rewritten"}))
    assert await run(hooks, call) == "rewritten"
    assert (
        await call_with_hooks(None, before="a", after="b", error="c", data={}, call=call) == "real"
    )


async def test_call_with_hooks_error_point_retries_then_raises() -> None:
    hooks = HookRegistry()
    seen: list[dict[str, Any]] = []

    def retry(ctx: dict[str, Any]) -> dict[str, Any]:
        seen.append(ctx["data"])
        return {"type": "retry", "attempts": 2}

    hooks.register("ToolError", retry)
    attempts: list[int] = []

    async def failing(data: dict[str, Any]) -> None:
        attempts.append(1)
        raise ToolError("disk full")

    with pytest.raises(ToolError, match="disk full"):
        await run(hooks, failing)
    assert len(attempts) == 3
    assert seen[0]["error"] == "disk full" and seen[0]["error_kind"] == "ToolError"


async def test_call_with_hooks_retry_succeeds_after_delay() -> None:
    hooks = HookRegistry()
    hooks.register("ToolError", returning({"type": "retry", "delay": 0.01, "attempts": 3}))
    attempts: list[int] = []

    async def flaky(data: dict[str, Any]) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ToolError("busy")
        return "done"

    assert await run(hooks, flaky) == "done"
    assert len(attempts) == 3


async def test_call_with_hooks_error_point_can_recover_or_let_it_raise() -> None:
    async def failing(data: dict[str, Any]) -> None:
        raise ToolError("nope")

    hooks = HookRegistry()
    hooks.register("ToolError", returning({"type": "replace", "data": {"fallback": True}}))
    assert await run(hooks, failing) == {"fallback": True}
    hooks = HookRegistry()
    hooks.register("ToolError", returning("continue"))
    with pytest.raises(ToolError):
        await run(hooks, failing)


async def test_call_with_hooks_after_retry_returns_last_result_when_used_up() -> None:
    hooks = HookRegistry()
    hooks.register("AfterToolExecution", returning({"type": "retry", "attempts": 1}))
    results = iter(["first", "second"])

    async def call(data: dict[str, Any]) -> str:
        return next(results)

    assert await run(hooks, call) == "second"


async def test_call_with_hooks_cancel_before_the_call() -> None:
    hooks = HookRegistry()
    hooks.register("BeforeToolExecution", returning("tool disabled by policy"))

    async def call(data: dict[str, Any]) -> None:
        raise AssertionError("must not run")

    with pytest.raises(Cancelled, match="tool disabled by policy"):
        await run(hooks, call)


async def test_call_with_hooks_presents_the_result_only_to_after_hooks() -> None:
    hooks = HookRegistry()
    result = object()

    async def call(data: dict[str, Any]) -> object:
        return result

    def present(value: object) -> dict[str, Any]:
        return {"text": "shown"}

    kwargs: dict[str, Any] = {
        "before": "BeforeToolExecution",
        "after": "AfterToolExecution",
        "error": "ToolError",
        "data": {"tool": "t"},
        "call": call,
        "present": present,
    }
    assert await call_with_hooks(hooks, **kwargs) is result
    seen: list[Any] = []
    hooks.register("AfterToolExecution", lambda ctx: seen.append(ctx["data"]["result"]))
    assert await call_with_hooks(hooks, **kwargs) == {"text": "shown"}
    assert seen == [{"text": "shown"}]


async def test_call_with_hooks_fires_after_hooks_registered_during_the_call() -> None:
    hooks = HookRegistry()

    async def call(data: dict[str, Any]) -> int:
        hooks.register("AfterToolExecution", returning({"type": "replace", "data": 7}))
        return 1

    assert await run(hooks, call) == 7
