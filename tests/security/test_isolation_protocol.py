"""Process isolation against a hostile worker: whatever it sends, the run ends as ``killed``,
nothing escapes ``Host.run``, the parent's memory stays bounded and no process is left."""

from __future__ import annotations

import textwrap
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from fake_worker import hostile, is_gone, was_reaped
from security_kit import CONFIG, LIMITS

from llmspell import Host
from llmspell.core.result import RunResult
from llmspell.lua.isolation import parent
from llmspell.lua.isolation.pool import Worker, WorkerPool

SMALL_TABLES = {**CONFIG, "runtime": {"max_table_items": 10_000}}
MB = 1 << 20


class Hostile:
    """Runs a script on a process host whose workers are hostile programs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.started: list[Worker] = []
        monkeypatch.setattr(parent, "pool", lambda: WorkerPool(size=0))

    def run(
        self, body: str, *, hang: bool = True, config: dict[str, Any] = SMALL_TABLES, **limits: Any
    ) -> RunResult:
        """Run a script whose worker runs ``body`` (then sleeps, with ``hang``)."""
        program = textwrap.dedent(body) + ("\ntime.sleep(30)\n" if hang else "")
        self.monkeypatch.setattr(Worker, "start", hostile(program, self.started))
        host = Host(config, limits={**LIMITS, **limits}, record_runs=False, isolation="process")
        return host.run("return 1")

    def measured(
        self, body: str, *, hang: bool = True, **limits: Any
    ) -> tuple[RunResult, float, float]:
        """The result, the parent's peak of traced memory in MiB, and the seconds it took."""
        tracemalloc.start()
        try:
            started = time.monotonic()
            result = self.run(body, hang=hang, **limits)
            elapsed = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1] / MB
        finally:
            tracemalloc.stop()
        return result, peak, elapsed

    def assert_killed(self, result: RunResult, reason: str = "") -> None:
        assert result.error_kind == "killed", (result.error_kind, result.error)
        assert result.error is not None
        assert result.error.startswith("killed: the worker process broke the protocol ("), result
        assert reason in result.error
        assert self.started and all(was_reaped(worker) for worker in self.started)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    yield Hostile(monkeypatch)


MALFORMED = {
    "getenv_without_name": 'send({"t": "call", "id": 1, "fn": "getenv", "args": []})',
    "find_module_without_name": 'send({"t": "call", "id": 1, "fn": "find_module", "args": []})',
    "getenv_with_a_table": 'send({"t": "call", "id": 1, "fn": "getenv", "args": [[1]]})',
    "done_exit_code": 'send({"t": "done", "status": "ok", "error_kind": None, "error": None,'
    ' "value": None, "exit_code": "x", "metrics": {}})',
    "done_metrics": 'send({"t": "done", "status": "ok", "error_kind": None, "error": None,'
    ' "value": None, "exit_code": 0, "metrics": 5})',
    "done_function_value": 'send({"t": "done", "status": "ok", "error_kind": None, "error": None,'
    ' "value": {"\\u0000": "fn"}, "exit_code": 0, "metrics": {}})',
    "done_error_kind": 'send({"t": "done", "status": "error", "error_kind": ["x"], "error": "e",'
    ' "value": None, "exit_code": 0, "metrics": {}})',
    "done_missing_fields": 'send({"t": "done"})',
    "unknown_type": 'send({"t": "bogus"})',
    "type_not_a_string": 'send({"t": 5})',
    "not_an_object": "send([1, 2])",
    "not_json": 'send_raw(b"{not json")',
    "unknown_function": 'send({"t": "call", "id": 1, "fn": 9999, "args": []})',
    "call_id_not_an_integer": 'send({"t": "call", "id": "x", "fn": 0, "args": [0]})',
    "too_many_arguments": 'send({"t": "call", "id": 1, "fn": functions["JSON.parse"],'
    ' "args": ["1"] * 251})',
    "function_where_none_may_be": 'send({"t": "call", "id": 1, "fn": functions["JSON.parse"],'
    ' "args": [{"\\u0000": "fn", "id": 1}]})',
    "more_entries_than_the_run_may_send": 'send({"t": "call", "id": 1,'
    ' "fn": functions["JSON.parse"], "args": [list(range(10_001))]})',
    "unknown_tag": 'send({"t": "call", "id": 1, "fn": functions["JSON.parse"],'
    ' "args": [{"\\u0000": "what"}]})',
    "output_to_another_stream": 'send({"t": "out", "stream": "stdin", "data": "x"})',
    "answer_id_not_an_integer": 'send({"t": "invoked", "id": [1], "ok": True, "value": 1})',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_message_ends_the_run_as_killed(fake: Hostile, body: str) -> None:
    started = time.monotonic()
    result = fake.run(body)
    fake.assert_killed(result)
    assert time.monotonic() - started < 2


def test_a_message_longer_than_the_limit_is_refused_unread(fake: Hostile) -> None:
    # 40 MB of output in one message: over the limit of a 16 MiB run (twice its memory).
    body = 'send({"t": "out", "stream": "stdout", "data": "x" * 40_000_000})'
    result, peak, _ = fake.measured(body)
    fake.assert_killed(result, "a message of 40000044 bytes (at most 33554432)")
    assert peak < 16


def test_a_message_with_too_many_values_is_refused_before_parsing(fake: Hostile) -> None:
    # 9 MB of empty lists: parsed, ~225 MB of Python objects.
    body = """
    head = b'{"t":"out","stream":"stdout","data":"","x":['
    send_raw(head + b"[]," * 3_000_000 + b"[]]}")
    """
    result, peak, _ = fake.measured(body)
    fake.assert_killed(result, "a message with more than")
    assert peak < 64


@pytest.mark.parametrize("depth", [600, 100_000])
def test_deep_nesting_is_refused(fake: Hostile, depth: int) -> None:
    body = f"""
    send_raw(b'{{"t":"call","id":1,"fn":%d,"args":[' % functions["JSON.parse"]
             + b"[" * {depth} + b"]" * {depth} + b"]}}")
    """
    fake.assert_killed(fake.run(body))


def test_strings_full_of_brackets_and_commas_are_not_counted(fake: Hostile) -> None:
    # Legitimate text may hold any number of brackets and commas: only structure counts.
    body = r"""
    text = '[{,\\"' * 200_000
    send({"t": "call", "id": 1, "fn": functions["JSON.stringify"], "args": [text]})
    reply = read()
    ok = reply["ok"] and len(reply["value"]) > 1_000_000
    send({"t": "done", "status": "ok", "error_kind": None, "error": None, "value": ok,
          "exit_code": 0, "metrics": {"cpu_seconds": 0.1}})
    """
    result = fake.run(body)
    assert (result.status, result.value, result.metrics["cpu_seconds"]) == ("ok", True, 0.1)
    assert all(was_reaped(worker) for worker in fake.started)


def test_calls_in_flight_are_capped(fake: Hostile) -> None:
    body = """
    for i in range(20_000):
        send({"t": "call", "id": i, "fn": functions["sleep"], "args": [10]})
    """
    result, peak, elapsed = fake.measured(body)
    fake.assert_killed(result, "more than 10000 calls in flight")
    assert elapsed < 8 and peak < 120


def test_replies_left_unread_are_capped(fake: Hostile) -> None:
    # Each call asks for a 400 kB answer; the worker never reads its pipe.
    body = """
    big = json.dumps("x" * 400_000)
    for i in range(250):
        send({"t": "call", "id": i, "fn": functions["JSON.parse"], "args": [big]})
    time.sleep(1)
    """
    result, peak, _ = fake.measured(body, hang=False, memory_mb=1)
    fake.assert_killed(result, "bytes of messages left unread")
    assert peak < 50


def test_the_whole_process_group_is_killed(fake: Hostile) -> None:
    body = """
    child = os.fork()
    if child == 0:
        time.sleep(60)
        os._exit(0)
    send({"t": "out", "stream": "stdout", "data": str(child)})
    send({"t": "bogus"})
    """
    result = fake.run(body)
    fake.assert_killed(result)
    child = int(result.output)
    deadline = time.monotonic() + 2
    while not is_gone(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert is_gone(child)
