"""``ProcessRun``: a run whose Lua VM is in a worker process (``[runtime] isolation = "process"``).

The parent keeps everything that is not the VM: tools, providers, state, secrets, the run's
hooks and events, its output and its record. The global adapters install here against a
``PlanBridge``; the worker gets the plan with the script, and from then on the two talk over the
worker's pipe: the worker calls host functions, the parent answers (a function that waits runs as
a task of the parent's loop meanwhile) and asks the worker to run Lua functions it holds handles
to (hooks, Lua tools, workflow steps).

The parent trusts nothing the worker sends: a script that broke out of the Lua VM would write
it. Every message is checked (length, number of values, depth, table entries, arguments, types,
function handles only where the host function takes them, calls in flight, replies left unread);
one that breaks the protocol ends the run as ``killed``. The parent stops the worker at the
wall-clock deadline, when the run is cancelled, when the output limit is passed, and when the
worker breaks the protocol. A worker that ends without a result was killed: the OS CPU limit
(``timeout``), or a crash or hang (``killed``). Either way the parent's own loop never waits on
the worker's CPU, and the worker is reaped however the run ends.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from dataclasses import dataclass
from typing import Any

from llmspell.core.errors import LlmspellError, ValidationError
from llmspell.core.result import RunResult
from llmspell.lua.convert import LuaFunctionRef
from llmspell.lua.host_calls import failure
from llmspell.lua.isolation.host_side import HostFunction, PlainConverter, PlanBridge, PlanScheduler
from llmspell.lua.isolation.pool import Worker, pool
from llmspell.lua.isolation.protocol import (
    HEADER,
    ProtocolError,
    decode,
    encode,
    frame,
    message_limit,
    no_functions,
    unframe,
)
from llmspell.lua.limits import (
    LIMIT_KEYS,
    MAX_FUNCTION_REFS,
    MAX_HOST_ARGS,
    MAX_TASKS,
    larger_than,
    truncate_message,
)
from llmspell.lua.run import ScriptRun
from llmspell.lua.scheduler import RunAborted, TaskFailed
from llmspell.lua.scheduler import decode as decode_text
from llmspell.lua.scheduler import encode as encode_text

FAULT_VARIABLE = "LLMSPELL_TEST_WORKER_FAULT"
"""Test-only: ``exit``, ``crash`` or ``hang`` (``...@call``: at the script's first host call)
makes the worker of every process-isolated run fail that way, when ``TESTING_VARIABLE`` is
``1`` too."""

TESTING_VARIABLE = "LLMSPELL_TESTING"

_RUNTIME_KEYS = ("max_table_depth", "max_table_items", "max_tool_depth")
_STREAMS = ("stdout", "stderr")
_KIND = re.compile(r"[a-z_]{1,32}")
_BURST = 64
"""Messages handled in a row before the loop's other tasks get a turn."""


def _grace(wall_seconds: float) -> float:
    """How long after the wall-clock limit a worker may take to report before it is killed."""
    return min(1.0 + wall_seconds * 0.1, 5.0)


@dataclass(frozen=True)
class _Done:
    """The worker's ``done`` message, checked."""

    status: str
    error_kind: str | None
    error: str | None
    value: Any
    exit_code: int
    cpu_seconds: float | None


@dataclass(frozen=True)
class _Answer:
    """The worker's answer to an ``invoke``, checked."""

    ok: bool
    value: Any = None
    error: str = ""
    kind: str | None = None


class ProcessRun(ScriptRun):
    """A ``ScriptRun`` whose Lua side runs in a worker process."""

    def _start_vm(self, services: Any) -> None:
        runtime = self.config.runtime
        self._plain = PlainConverter(runtime.max_table_depth, runtime.max_table_items)
        self._finalizers = PlanScheduler()
        self._plan = PlanBridge(
            self._plain,
            self._finalizers,
            config=self.config,
            services=services,
            script_name=self.spec.name,
        )
        # Adapters reach these as they do in-process (bridge.run, bridge.scheduler.finalizers).
        self.converter = self._plain  # type: ignore[assignment]
        self.scheduler = self._finalizers  # type: ignore[assignment]
        self.bridge = self._plan  # type: ignore[assignment]
        self._plan.run = self  # type: ignore[attr-defined]
        self._worker: Worker | None = None
        self._transport: asyncio.WriteTransport | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._invocations: dict[int, asyncio.Future[_Answer]] = {}
        self._next_invocation = 0
        self._stop: RunAborted | None = None
        """Why the parent ended the run (cancel, output limit), if it did."""
        self._violation: str | None = None
        """How the worker broke the protocol, if it did."""
        self._message_limit = message_limit(self.limits.memory_bytes)
        # Values one message may hold: about four per table entry the worker may send (an entry
        # of a table with integer keys takes two commas, a JSON.null value one more object), and
        # the functions.
        self._max_values = (
            4 * (runtime.max_table_items + MAX_HOST_ARGS) + 2 * MAX_FUNCTION_REFS + 1024
        )
        self._buffer_limit = 4 * self._message_limit
        """Bytes of messages to the worker left unread beyond which it broke the protocol."""
        self._functions_received = 0
        self._install()

    # -- what ScriptRun does with a VM ---------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.ended

    def check_chunk(self, source: bytes, chunkname: str = "=stdin") -> str | None:
        """None when ``source`` compiles, else the syntax error (compiled only, never run)."""
        from lupa import lua54

        lua = lua54.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            encoding=None,
            max_memory=self.limits.memory_bytes,
        )
        check = lua.eval(
            b"function(s, n) if s:byte(1) == 27 then return 'SandboxViolation: binary chunks"
            b" are not allowed' end local f, e = load(s, n, 't', {}) return e end"
        )
        error = check(source, encode_text(chunkname))
        return None if error is None else decode_text(error)

    def run_chunk(self, source: bytes, name: str = "stdin") -> RunResult:
        raise ValidationError("process isolation runs whole scripts; the REPL runs in-process")

    def run(self) -> RunResult:
        return asyncio.run(self.run_async())

    def cancel(self, reason: str = "cancelled") -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
        if self._stop is None:
            self._stop = RunAborted("cancelled", "cancelled")
        if self._worker is not None:
            self._worker.kill()

    # -- the run -------------------------------------------------------------------------------
    async def run_async(self) -> RunResult:
        started = time.perf_counter()
        worker = self._worker = pool().acquire()
        watcher = asyncio.get_running_loop().create_task(self._watch())
        outcome: _Done | str = "stopped"
        try:
            # A cancel that came before the worker was attached: the script never starts.
            if self._stop is None:
                outcome = await self._converse(worker)
        finally:
            watcher.cancel()
            worker.kill()
            self.ended = True
            try:
                await self._finish()
            finally:
                returncode = await worker.ended()
        return self._outcome(started, outcome, returncode)

    async def _converse(self, worker: Worker) -> _Done | str:
        """The worker's ``done`` message, or why there is none."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 16, loop=loop)
        reading, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), worker.stdout
        )
        self._transport, _ = await loop.connect_write_pipe(asyncio.Protocol, worker.stdin)
        limit = max(self.clock.wall_remaining, 0.0) + _grace(self.limits.wall_seconds)
        try:
            async with asyncio.timeout(limit):
                return await self._exchange(reader)
        except TimeoutError:
            return "deadline"
        except (asyncio.IncompleteReadError, ConnectionError):
            return "ended"
        except Exception as exc:
            self._violate(str(exc) if isinstance(exc, ProtocolError) else _describe(exc))
            return "violation"
        finally:
            self._transport.close()
            reading.close()

    async def _exchange(self, reader: asyncio.StreamReader) -> _Done:
        message = await self._read(reader)
        if message["t"] != "ready":
            raise ProtocolError("the worker did not start")
        run = frame(self._run_message())
        assert self._transport is not None
        self._transport.write(run)
        self._buffer_limit += len(run)
        handled = 0
        while True:
            message = await self._read(reader)
            kind = message["t"]
            if kind == "done":
                return self._done(message)
            if kind == "out":
                self._out(message)
            elif kind == "call":
                self._call(message)
            elif kind == "invoked":
                self._invoked(message)
            else:
                raise ProtocolError(f"unknown message {kind[:40]!r}")
            if self._violation is not None:
                raise ProtocolError(self._violation)
            handled += 1
            if handled % _BURST == 0:
                await asyncio.sleep(0)

    async def _read(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
        if size > self._message_limit:
            raise ProtocolError(f"a message of {size} bytes (at most {self._message_limit})")
        return unframe(await reader.readexactly(size), self._max_values)

    def _violate(self, reason: str) -> None:
        """The worker broke the protocol: it is killed and the run ends as ``killed``."""
        if self._violation is None:
            self._violation = reason
        if self._worker is not None:
            self._worker.kill()

    def _send(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        unread = transport.get_write_buffer_size()
        if unread > self._buffer_limit:
            self._violate(f"{unread} bytes of messages left unread")

    def _run_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "t": "run",
            "spec": {
                "source": decode_text(self.spec.source),
                "name": self.spec.name,
                "args": list(self.spec.args),
            },
            "limits": {key: getattr(self.limits, key) for key in LIMIT_KEYS},
            "runtime": {key: getattr(self.config.runtime, key) for key in _RUNTIME_KEYS},
            # The wall clock started when the run was prepared, not when the worker starts.
            "wall_seconds_left": max(self.clock.wall_remaining, 0.0),
            "execution_id": self.execution_id,
            "log_level": self.log_level,
            "plan": self._plan.plan(),
        }
        fault = os.environ.get(FAULT_VARIABLE)
        if fault and os.environ.get(TESTING_VARIABLE) == "1":
            what, _, when = fault.partition("@")
            message["fault"] = {"what": what, "when": when or "start"}
        return message

    async def _watch(self) -> None:
        """Cancel requests from outside the process (``llmspell runs cancel``)."""
        while not self.clock.poll():
            await asyncio.sleep(min(self.clock.seconds_to_check, 1.0))
        self.cancel()

    # -- messages from the worker -------------------------------------------------------------
    def _out(self, message: dict[str, Any]) -> None:
        stream, data = message["stream"], message["data"]
        if stream not in _STREAMS or type(data) is not str:
            raise ProtocolError("malformed output")
        ok, text = self.output.write(stream, data.encode("utf-8", "surrogateescape"))
        if not ok and self._stop is None:
            self._stop = RunAborted(decode_text(text), "output_limit")
            if self._worker is not None:
                self._worker.kill()

    def _call(self, message: dict[str, Any]) -> None:
        call_id, fn, args = message["id"], message["fn"], message["args"]
        if type(call_id) is not int:
            raise ProtocolError("a call without an integer id")
        if type(args) is not list or len(args) > MAX_HOST_ARGS:
            raise ProtocolError(f"call arguments must be a list of at most {MAX_HOST_ARGS}")
        if fn == "getenv" or fn == "find_module":
            if len(args) != 1 or type(args[0]) is not str:
                raise ProtocolError(f"{fn} takes one string")
            self._reply(call_id, self._prelude_call(fn, args[0]))
            return
        entries = self._plan.functions
        if type(fn) is not int or not 0 <= fn < len(entries):
            raise ProtocolError(f"no host function {str(fn)[:40]!r}")
        entry: HostFunction = entries[fn]
        on_function = self._function_of if entry.functions else no_functions
        budget = [self._plain.max_items]
        depth = self._plain.max_depth + 1
        values = [decode(a, on_function, max_depth=depth, budget=budget) for a in args]
        if not entry.waits:
            try:
                value = entry.fn(*values)
            except BaseException as exc:
                self._reply(call_id, self._failure(exc))
            else:
                self._reply(call_id, self._value(value))
            return
        # One call in flight per script task, and per Lua function the host is running.
        if len(self._tasks) > MAX_TASKS + len(self._invocations):
            raise ProtocolError(f"more than {MAX_TASKS} calls in flight")
        task = asyncio.get_running_loop().create_task(self._call_async(call_id, entry, values))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _prelude_call(self, fn: str, name: str) -> dict[str, Any]:
        if fn == "getenv":
            ok, value = self._getenv(encode_text(name))[:2]
            return {"ok": ok, "value": value and decode_text(value)}
        ok, source, path = self._find_module(encode_text(name))
        if ok:
            return {"ok": True, "value": [decode_text(source), decode_text(path)]}
        return {"ok": False, "error": decode_text(source)}

    async def _call_async(self, call_id: int, entry: HostFunction, args: list[Any]) -> None:
        try:
            value = await entry.fn(*args)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._reply(call_id, self._failure(exc))
        else:
            self._reply(call_id, self._value(value))

    def _value(self, value: Any) -> dict[str, Any]:
        # A value bigger than the worker's whole memory could not be received there: say so at
        # once rather than spend the loop's time encoding it.
        if larger_than(value, self.limits.memory_bytes):
            return {"ok": False, "error": "not enough memory", "kind": "memory"}
        try:
            return {"ok": True, "value": encode(value, self._handle_of, self._plain.max_depth)}
        except LlmspellError as exc:
            return self._failure(exc)

    def _failure(self, exc: BaseException) -> dict[str, Any]:
        _, message, kind = failure(exc, self._plain)
        return {"ok": False, "error": decode_text(message), "kind": kind and decode_text(kind)}

    def _reply(self, call_id: int, answer: dict[str, Any]) -> None:
        data = frame({"t": "reply", "id": call_id, **answer})
        if len(data) - HEADER.size > self._message_limit:
            too_large = ValidationError(
                f"a value too large to send to the script ({len(data) - HEADER.size} bytes as a"
                f" message; at most {self._message_limit})"
            )
            data = frame({"t": "reply", "id": call_id, **self._failure(too_large)})
        self._send(data)

    def _done(self, message: dict[str, Any]) -> _Done:
        status, error, exit_code = message["status"], message["error"], message["exit_code"]
        if status not in ("ok", "error"):
            raise ProtocolError("a result without a status")
        if error is not None and type(error) is not str:
            raise ProtocolError("a result whose error is not a string")
        if type(exit_code) is not int or not 0 <= exit_code <= 255:
            raise ProtocolError("a result whose exit code is not from 0 to 255")
        metrics = message["metrics"]
        if type(metrics) is not dict:
            raise ProtocolError("a result without metrics")
        cpu = metrics.get("cpu_seconds")
        if cpu is not None and (type(cpu) not in (int, float) or not 0 <= cpu < 1e9):
            raise ProtocolError("a result whose CPU time is not a number")
        value = decode(
            message["value"],
            no_functions,
            max_depth=self._plain.max_depth + 2,
            budget=[self._plain.max_items + 1],
        )
        return _Done(status, _kind(message["error_kind"]), error, value, exit_code, cpu)

    # -- Lua functions held by the host -------------------------------------------------------
    def _function_of(self, handle: int) -> LuaFunctionRef:
        self._functions_received += 1
        if self._functions_received > MAX_FUNCTION_REFS:
            raise ProtocolError(f"more than {MAX_FUNCTION_REFS} functions handed to the host")
        return LuaFunctionRef(handle, self._invoke_remote, "function")

    def _handle_of(self, ref: LuaFunctionRef) -> int:
        if ref._invoke != self._invoke_remote:
            raise ValidationError("a Lua function of another run cannot be passed to this one")
        handle: int = ref.lua_function
        return handle

    async def _invoke_remote(self, handle: int, args: tuple[Any, ...]) -> Any:
        if self.ended or self._transport is None or self._transport.is_closing():
            raise ValidationError("the run this Lua function belongs to has ended")
        message = {
            "t": "invoke",
            "id": self._next_invocation + 1,
            "fn": handle,
            "args": encode(list(args), self._handle_of, self._plain.max_depth),
        }
        data = frame(message)
        if len(data) - HEADER.size > self._message_limit:
            raise ValidationError(
                f"arguments too large to send to a Lua function ({len(data) - HEADER.size}"
                f" bytes as a message; at most {self._message_limit})"
            )
        self._next_invocation += 1
        future: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()
        self._invocations[self._next_invocation] = future
        self._send(data)
        answer = await future
        if answer.ok:
            return answer.value
        message_text = truncate_message(answer.error)
        if answer.kind:
            raise RunAborted(message_text, answer.kind)
        raise TaskFailed(message_text, "runtime")

    def _invoked(self, message: dict[str, Any]) -> None:
        invocation = message["id"]
        if type(invocation) is not int:
            raise ProtocolError("an answer without an integer id")
        if message.get("ok") is True:
            value = decode(
                message.get("value"),
                no_functions,
                max_depth=self._plain.max_depth + 2,
                budget=[self._plain.max_items + 1],
            )
            answer = _Answer(True, value)
        else:
            error = message.get("error")
            if type(error) is not str:
                raise ProtocolError("an error answer without a message")
            answer = _Answer(False, error=error, kind=_kind(message.get("kind")))
        future = self._invocations.pop(invocation, None)
        if future is not None and not future.done():
            future.set_result(answer)

    # -- the end ------------------------------------------------------------------------------
    async def _finish(self) -> None:
        for future in self._invocations.values():
            future.cancel()
        self._invocations.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for finalizer in self._finalizers.finalizers:
            await finalizer()

    def _outcome(self, started: float, outcome: _Done | str, returncode: int | None) -> RunResult:
        duration_ms = (time.perf_counter() - started) * 1000
        # Agents and tools ran here, in the parent: the run's usage is counted on this side
        # (read before the output: reading a session's totals may warn on stderr).
        usage = self.context.usage()
        result = RunResult(
            status="error",
            output=self.output.text("stdout"),
            stderr=self.output.text("stderr"),
            duration_ms=duration_ms,
            execution_id=self.execution_id,
        )
        if self._stop is not None:
            result.error_kind = self._stop.kind
            result.error = "cancelled" if self._stop.kind == "cancelled" else self._stop.message
        elif self._violation is not None:
            result.error_kind = "killed"
            reason = truncate_message(self._violation)
            result.error = f"killed: the worker process broke the protocol ({reason})"
        elif isinstance(outcome, _Done):
            result.status = outcome.status
            result.error_kind = outcome.error_kind
            result.error = None if outcome.error is None else truncate_message(outcome.error)
            result.value = outcome.value
            result.exit_code = self.exit_code = outcome.exit_code
            cpu = {} if outcome.cpu_seconds is None else {"cpu_seconds": outcome.cpu_seconds}
            result.metrics = {**cpu, **usage}
        elif returncode == -signal.SIGXCPU:
            result.error_kind = "timeout"
            result.error = decode_text(self.clock.cpu_message())
        elif outcome == "deadline":
            result.error_kind = "killed"
            result.error = (
                f"killed: the worker did not finish within the wall-clock limit of "
                f"{self.limits.wall_seconds:g} s"
            )
        else:
            result.error_kind = "killed"
            result.error = f"killed: the worker process {_how_it_ended(returncode)}"
        return result


def _kind(value: Any) -> str | None:
    """An outcome class the worker reported (``memory``, ``timeout`` ...), checked."""
    if value is None:
        return None
    if type(value) is not str or not _KIND.fullmatch(value):
        raise ProtocolError("a malformed error kind")
    return value


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _how_it_ended(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"was stopped by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was stopped by signal {-returncode}"
    return f"ended unexpectedly (exit status {returncode})"
