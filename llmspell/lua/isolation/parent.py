"""``ProcessRun``: a run whose Lua VM is in a worker process (``[runtime] isolation = "process"``).

The parent keeps everything that is not the VM: tools, providers, state, secrets, the run's
hooks and events, its output and its record. The global adapters install here against a
``PlanBridge``; the worker gets the plan with the script, and from then on the two talk over the
worker's pipe: the worker calls host functions, the parent answers (a function that waits runs as
a task of the parent's loop meanwhile) and asks the worker to run Lua functions it holds handles
to (hooks, Lua tools, workflow steps).

The parent stops the worker at the wall-clock deadline, when the run is cancelled, when the
output limit is passed, and when the worker breaks the protocol. A worker that ends without a
result was killed: the OS CPU limit (``timeout``), or a crash or hang (``killed``). Either way
the parent's own loop never waits on the worker's CPU: it stays responsive throughout.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
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
    no_functions,
    unframe,
)
from llmspell.lua.limits import LIMIT_KEYS, truncate_message
from llmspell.lua.run import ScriptRun
from llmspell.lua.scheduler import RunAborted, TaskFailed
from llmspell.lua.scheduler import decode as decode_text
from llmspell.lua.scheduler import encode as encode_text

FAULT_VARIABLE = "LLMSPELL_TEST_WORKER_FAULT"
"""Test-only: ``exit``, ``crash`` or ``hang`` (``...@call``: at the script's first host call)
makes the worker of every process-isolated run fail that way."""

_RUNTIME_KEYS = ("max_table_depth", "max_table_items", "max_tool_depth")


def _grace(wall_seconds: float) -> float:
    """How long after the wall-clock limit a worker may take to report before it is killed."""
    return min(1.0 + wall_seconds * 0.1, 5.0)


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
        self._invocations: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_invocation = 0
        self._stop: RunAborted | None = None
        """Why the parent ended the run (cancel, output limit), if it did."""
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
        try:
            outcome = await self._converse(worker)
        finally:
            watcher.cancel()
            worker.kill()
            self.ended = True
            await self._finish()
        returncode = worker.reap()
        return self._outcome(started, outcome, returncode)

    async def _converse(self, worker: Worker) -> dict[str, Any] | str:
        """The worker's ``done`` message, or why there is none."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 16, loop=loop)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), worker.stdout)
        self._transport, _ = await loop.connect_write_pipe(asyncio.Protocol, worker.stdin)
        limit = max(self.clock.wall_remaining, 0.0) + _grace(self.limits.wall_seconds)
        try:
            async with asyncio.timeout(limit):
                message = await self._read(reader)
                if message["t"] != "ready":
                    raise ProtocolError("the worker did not start")
                self._send(self._run_message())
                while True:
                    message = await self._read(reader)
                    kind = message["t"]
                    if kind == "done":
                        return message
                    if kind == "out":
                        self._out(message)
                    elif kind == "call":
                        self._call(message)
                    elif kind == "invoked":
                        self._invoked(message)
                    else:
                        raise ProtocolError(f"unknown message {kind!r}")
        except TimeoutError:
            return "deadline"
        except (asyncio.IncompleteReadError, ConnectionError):
            return "ended"
        except (ProtocolError, KeyError, TypeError, ValueError) as exc:
            return f"protocol: {exc}"
        finally:
            self._transport.close()

    async def _read(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
        if size > 16 * self.limits.memory_bytes + (16 << 20):
            raise ProtocolError(f"message of {size} bytes")
        return unframe(await reader.readexactly(size))

    def _send(self, message: dict[str, Any]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame(message))

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
            "execution_id": self.execution_id,
            "log_level": self.log_level,
            "plan": self._plan.plan(),
        }
        fault = os.environ.get(FAULT_VARIABLE)
        if fault:
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
        ok, text = self.output.write(
            str(message["stream"]), str(message["data"]).encode("utf-8", "surrogateescape")
        )
        if not ok and self._stop is None:
            self._stop = RunAborted(decode_text(text), "output_limit")
            if self._worker is not None:
                self._worker.kill()

    def _call(self, message: dict[str, Any]) -> None:
        call_id, fn = message["id"], message["fn"]
        args = decode(message["args"], self._function_of)
        if not isinstance(args, list):
            raise ProtocolError("arguments must be a list")
        if fn == "getenv":
            ok, value = self._getenv(encode_text(str(args[0])))[:2]
            self._reply(call_id, {"ok": ok, "value": value and decode_text(value)})
        elif fn == "find_module":
            ok, source, path = self._find_module(encode_text(str(args[0])))
            self._reply(
                call_id,
                {"ok": True, "value": [decode_text(source), decode_text(path)]}
                if ok
                else {"ok": False, "error": decode_text(source)},
            )
        else:
            entries = self._plan.functions
            if type(fn) is not int or not 0 <= fn < len(entries):
                raise ProtocolError(f"no host function {fn!r}")
            entry: HostFunction = entries[fn]
            if entry.waits:
                task = asyncio.get_running_loop().create_task(
                    self._call_async(call_id, entry, args)
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                try:
                    value = entry.fn(*args)
                except BaseException as exc:
                    self._reply(call_id, self._failure(exc))
                else:
                    self._reply(call_id, self._value(value))

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
        if _larger_than(value, self.limits.memory_bytes):
            return {"ok": False, "error": "not enough memory", "kind": "memory"}
        try:
            return {"ok": True, "value": encode(value, self._handle_of, self._plain.max_depth)}
        except LlmspellError as exc:
            return self._failure(exc)

    def _failure(self, exc: BaseException) -> dict[str, Any]:
        _, message, kind = failure(exc, self._plain)
        return {"ok": False, "error": decode_text(message), "kind": kind and decode_text(kind)}

    def _reply(self, call_id: Any, answer: dict[str, Any]) -> None:
        self._send({"t": "reply", "id": call_id, **answer})

    # -- Lua functions held by the host -------------------------------------------------------
    def _function_of(self, handle: int) -> LuaFunctionRef:
        return LuaFunctionRef(handle, self._invoke_remote, "function")

    def _handle_of(self, ref: LuaFunctionRef) -> int:
        if ref._invoke != self._invoke_remote:
            raise ValidationError("a Lua function of another run cannot be passed to this one")
        handle: int = ref.lua_function
        return handle

    async def _invoke_remote(self, handle: int, args: tuple[Any, ...]) -> Any:
        if self.ended or self._transport is None or self._transport.is_closing():
            raise ValidationError("the run this Lua function belongs to has ended")
        self._next_invocation += 1
        invocation = self._next_invocation
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._invocations[invocation] = future
        self._send(
            {
                "t": "invoke",
                "id": invocation,
                "fn": handle,
                "args": encode(list(args), self._handle_of, self._plain.max_depth),
            }
        )
        reply = await future
        if reply.get("ok"):
            return decode(reply.get("value"), self._function_of)
        message, kind = truncate_message(str(reply.get("error"))), reply.get("kind")
        if kind:
            raise RunAborted(message, str(kind))
        raise TaskFailed(message, "runtime")

    def _invoked(self, message: dict[str, Any]) -> None:
        future = self._invocations.pop(message["id"], None)
        if future is not None and not future.done():
            future.set_result(message)

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

    def _outcome(
        self, started: float, outcome: dict[str, Any] | str, returncode: int | None
    ) -> RunResult:
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
        elif isinstance(outcome, dict):
            result.status = str(outcome.get("status", "error"))
            result.error_kind = outcome.get("error_kind")
            error = outcome.get("error")
            result.error = None if error is None else truncate_message(str(error))
            result.value = decode(outcome.get("value"), no_functions)
            result.exit_code = int(outcome.get("exit_code") or 0)
            self.exit_code = result.exit_code
            result.metrics = {**dict(outcome.get("metrics") or {}), **usage}
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
            result.error = f"killed: the worker process {_how_it_ended(outcome, returncode)}"
        return result


def _larger_than(value: Any, limit: int) -> bool:
    """Whether plain data ``value`` takes more than ``limit`` bytes (stops as soon as it does)."""
    left, stack = limit, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            left -= len(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
            left -= 16 * len(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
            left -= 16 * len(item)
        if left < 0:
            return True
    return False


def _how_it_ended(outcome: str, returncode: int | None) -> str:
    if outcome.startswith("protocol"):
        return f"broke the protocol ({outcome.partition(': ')[2]})"
    if returncode is not None and returncode < 0:
        try:
            return f"was stopped by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was stopped by signal {-returncode}"
    return f"ended unexpectedly (exit status {returncode})"
