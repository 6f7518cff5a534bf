"""The worker process of a process-isolated run: ``python -I -m llmspell.lua.isolation.worker``.

It asks the kernel to kill it when the parent's thread that started it ends (Linux), imports
what a run needs, says ``ready`` and waits for one ``run`` message. Then it lowers its OS limits
(address space, CPU time, no files, no child processes), builds the Lua VM with the sandbox, the
scheduler and the converter (``WorkerRun``), and runs the script. Every host function
of the run lives in the parent: the worker knows them by index from the run's install plan, and
a call sends the arguments as plain data over the pipe and waits for the answer (a function that
waits yields the script's coroutine to the scheduler meanwhile). When the script ends the worker
sends ``done`` and exits: a worker runs one script.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmspell.core.config import Config, RuntimeConfig
from llmspell.core.errors import LimitExceeded, LlmspellError, ValidationError
from llmspell.core.result import RunResult
from llmspell.lua.bridge import lua_source
from llmspell.lua.convert import LuaFunctionRef
from llmspell.lua.host_calls import failure
from llmspell.lua.isolation.channel import Channel
from llmspell.lua.isolation.protocol import (
    ProtocolError,
    RemoteError,
    decode,
    encode,
    message_limit,
    no_functions,
)
from llmspell.lua.limits import RunLimits, truncate_message
from llmspell.lua.run import ScriptRun, ScriptSpec, patterns_source, prelude_code
from llmspell.lua.scheduler import RunAborted, TaskFailed
from llmspell.lua.scheduler import decode as decode_text
from llmspell.lua.scheduler import encode as encode_text

ADDRESS_SPACE_MARGIN = 256 * 1024 * 1024
"""Address space allowed above what the worker uses once ready, besides 8× the Lua memory limit
(the Python side of conversions): the OS limit is a backstop; the VM's own limit comes first."""

CPU_MARGIN = 2
"""Seconds of CPU time the OS limit allows beyond the run's CPU limit (the VM's own count
comes first; ``SIGXCPU`` is the backstop)."""

OUTPUT_PIECE = 256 * 1024
"""Bytes of output per message (at most ~1.5 MiB of JSON: under every message limit)."""

PR_SET_PDEATHSIG = 1


class WorkerRun(ScriptRun):
    """A ``ScriptRun`` whose host functions are in the parent, reached through ``channel``."""

    def __init__(
        self,
        spec: ScriptSpec,
        *,
        config: Config,
        limits: RunLimits,
        execution_id: str,
        log_level: str | None,
        channel: Channel,
        plan: dict[str, Any],
    ) -> None:
        self.channel = channel
        self._plan = plan
        self._handles: dict[int, Any] = {}
        super().__init__(
            spec, config=config, limits=limits, execution_id=execution_id, log_level=log_level
        )

    # -- the globals, from the parent's plan --------------------------------------------------
    def _install(self) -> None:
        kernel, fns = self.kernel, []
        for index, entry in enumerate(self._plan["functions"]):
            name, functions = str(entry["name"]), bool(entry["functions"])
            if entry["async"]:
                fns.append(
                    kernel[b"async_fn"](
                        self._remote_async(index, name, functions), encode_text(name)
                    )
                )
            else:
                fns.append(
                    kernel[b"sync_fn"](self._remote_sync(index, name, functions), encode_text(name))
                )

        def host(index: int) -> Any:
            if not 0 <= index < len(fns):
                raise ProtocolError(f"no host function {index}")
            return LuaFunctionRef(fns[index], self._invoke_function)

        to_lua = self.converter.to_lua
        for op in self._plan["globals"]:
            if op["op"] == "global":
                table = {
                    k: to_lua(decode(v, no_functions, host)) for k, v in op["functions"].items()
                }
                self.bridge.define_global(str(op["name"]), table, op.get("lua_file"))
            else:
                self.bridge.set_global(str(op["path"]), decode(op["value"], no_functions, host))

    # -- calls to the parent ------------------------------------------------------------------
    def _arguments(self, args: tuple[Any, ...], name: str, functions: bool) -> list[Any]:
        budget = [self.converter.max_items]
        plain = [
            self.converter.to_python(
                a, f"{name}: argument #{i}", functions=functions, budget=budget
            )
            for i, a in enumerate(args, 1)
        ]
        return list(encode(plain, self._handle_of, self.converter.max_depth + 1))

    def _handle_of(self, ref: LuaFunctionRef) -> int:
        handle = len(self._handles) + 1
        self._handles[handle] = ref.lua_function
        return handle

    def _function_of(self, handle: int) -> LuaFunctionRef:
        fn = self._handles.get(handle)
        if fn is None:
            raise ProtocolError(f"no function with handle {handle}")
        return LuaFunctionRef(fn, self._invoke_function)

    def _remote_sync(self, index: int, name: str, functions: bool) -> Any:
        converter = self.converter

        def call(*args: Any) -> tuple[Any, ...]:
            try:
                reply = self.channel.call(index, self._arguments(args, name, functions))
                if reply.get("ok"):
                    return True, converter.to_lua(decode(reply.get("value"), self._function_of))
                kind = reply.get("kind")
                return False, converter.message(str(reply.get("error"))), kind and encode_text(kind)
            except BaseException as exc:
                return failure(exc, converter)

        return call

    def _remote_async(self, index: int, name: str, functions: bool) -> Any:
        converter = self.converter

        def start(*args: Any) -> tuple[Any, ...]:
            try:
                future = self.channel.start_call(index, self._arguments(args, name, functions))
                return True, self.scheduler.start_op(self._answer(future))
            except BaseException as exc:
                return failure(exc, converter)

        return start

    async def _answer(self, future: asyncio.Future[dict[str, Any]]) -> Any:
        reply = await future
        if reply.get("ok"):
            return decode(reply.get("value"), self._function_of)
        kind, message = reply.get("kind"), str(reply.get("error"))
        if kind:
            raise LimitExceeded(message, str(kind))
        raise RemoteError(message)

    # -- prelude callbacks that belong to the parent -----------------------------------------
    def _write(self, stream: bytes, text: bytes) -> tuple[bool, bytes | None, bytes | None]:
        """Send what fits in the output limit (and one byte more when ``text`` passes it: the
        parent, which keeps the run's output, then ends the run), in pieces."""
        sink = self.output
        if not sink.truncated:
            room = max(sink.limit - sink.used, 0)
            data = text if len(text) <= room else text[: room + 1]
            name = decode_text(stream)
            for piece in pieces(data, OUTPUT_PIECE):
                self.channel.send({"t": "out", "stream": name, "data": decode_text(piece)})
        return super()._write(stream, text)

    def _getenv(self, name: Any) -> tuple[Any, ...]:
        if not isinstance(name, bytes):
            return False, b"ValidationError: os.getenv expects a string"
        reply = self.channel.call("getenv", [decode_text(name)])
        value = reply.get("value")
        return True, None if value is None else encode_text(str(value))

    def _find_module(self, name: bytes) -> tuple[Any, ...]:
        reply = self.channel.call("find_module", [decode_text(name)])
        if not reply.get("ok"):
            return False, encode_text(str(reply.get("error"))), None
        source, path = reply["value"]
        return True, encode_text(str(source)), encode_text(str(path))

    # -- the parent's requests ----------------------------------------------------------------
    def _on_invoke(self, message: dict[str, Any]) -> None:
        asyncio.get_running_loop().create_task(self._invoked(message))

    async def _invoked(self, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"t": "invoked", "id": message.get("id")}
        try:
            fn = self._function_of(int(message["fn"]))
            args = decode(message.get("args", []), self._function_of)
            value = await fn(*args)
            reply.update(
                ok=True, value=encode(value, self._handle_of, self.converter.max_depth + 1)
            )
        except TaskFailed as exc:
            kind = exc.kind if isinstance(exc, RunAborted) else None
            reply.update(ok=False, error=exc.message, kind=kind)
        except LlmspellError as exc:
            reply.update(ok=False, error=exc.lua_message(), kind=None)
        except Exception as exc:
            reply.update(ok=False, error=f"InternalError: {type(exc).__name__}: {exc}", kind=None)
        try:
            self.channel.send(reply)
        except ValidationError as exc:
            reply.update(ok=False, error=exc.lua_message(), kind=None, value=None)
            self.channel.send(reply)

    async def serve(self, limits: dict[str, Any]) -> None:
        """Run the script and report its result to the parent."""
        self.channel.start(asyncio.get_running_loop(), self._on_invoke)
        lower_limits(limits)
        result = await self.run_async()
        done = done_message(result, self._handle_of, self.converter.max_depth + 1)
        try:
            self.channel.send(done)
        except ValidationError as exc:
            self.channel.send({**done, "value": f"<{exc}>"})


def done_message(result: RunResult, on_function: Any, max_depth: int) -> dict[str, Any]:
    try:
        value = encode(result.value, on_function, max_depth)
    except LlmspellError as exc:
        value = f"<{exc}>"
    return {
        "t": "done",
        "status": result.status,
        "error_kind": result.error_kind,
        "error": result.error,
        "value": value,
        "exit_code": result.exit_code,
        "metrics": result.metrics,
    }


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in pieces of at most ``size`` bytes, not cutting a UTF-8 sequence in two."""
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        if end < len(data):
            back = end
            while back > end - 3 and back > start + 1 and 0x80 <= data[back] < 0xC0:
                back -= 1
            if not 0x80 <= data[back] < 0xC0:
                end = back
        yield data[start:end]
        start = end


def lower_limits(limits: dict[str, Any]) -> None:
    """The OS limits of the run: address space, CPU time, no file writes, no children."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(usage.ru_utime + usage.ru_stime + float(limits["cpu_seconds"])) + CPU_MARGIN
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = int(float(limits["memory_mb"]) * 1024 * 1024)
    space = _address_space() + ADDRESS_SPACE_MARGIN + 8 * memory
    resource.setrlimit(resource.RLIMIT_AS, (space, space))
    for limit in (resource.RLIMIT_FSIZE, resource.RLIMIT_CORE, resource.RLIMIT_NPROC):
        resource.setrlimit(limit, (0, 0))


def _address_space() -> int:
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return 1 << 30
    return int(fields[0]) * os.sysconf("SC_PAGE_SIZE")


def _private_channel() -> Channel:
    """The pipe to the parent on private descriptors; 0 and 1 point at /dev/null afterwards, so
    that nothing else (a stray print, Lua's ``warn``) can write into the protocol."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    return Channel(read_fd, write_fd)


def _preload() -> None:
    """Read what a run reads from disk before any script runs."""
    folder = Path(__file__).parent.parent / "globals"
    for path in folder.glob("*.lua"):
        lua_source(path.name)
    patterns_source()
    prelude_code()


def _die_with_parent(parent: int | None) -> None:
    """Ask the kernel to kill this process when the thread that started it ends (Linux only,
    best effort); exit at once if the parent is already gone."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(0)


def _fault(what: str) -> None:
    """Test-only faults (``LLMSPELL_TEST_WORKER_FAULT`` in the parent's environment)."""
    if what == "exit":
        os._exit(3)
    elif what == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif what == "hang":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        while True:
            time.sleep(3600)


def _build(message: dict[str, Any], channel: Channel) -> WorkerRun:
    spec = message["spec"]
    runtime = RuntimeConfig(**message["runtime"])
    limits = RunLimits(**message["limits"])
    channel.max_message = message_limit(limits.memory_bytes)
    run = WorkerRun(
        ScriptSpec(encode_text(spec["source"]), spec["name"], list(spec["args"])),
        config=Config(runtime=runtime),
        limits=limits,
        execution_id=str(message["execution_id"]),
        log_level=message.get("log_level"),
        channel=channel,
        plan=message["plan"],
    )
    run.clock.expire_within(float(message["wall_seconds_left"]))
    return run


def main() -> None:
    sys.dont_write_bytecode = True  # the worker may not write files (RLIMIT_FSIZE is 0)
    _die_with_parent(int(sys.argv[1]) if len(sys.argv) > 1 else None)
    channel = _private_channel()
    _preload()
    channel.send({"t": "ready", "pid": os.getpid()})
    try:
        message = channel.receive()
    except (EOFError, OSError, ProtocolError):
        os._exit(0)
    fault = message.get("fault") or {}
    if fault.get("when") == "start":
        _fault(str(fault.get("what")))
    elif fault:
        channel.on_first_call = lambda: _fault(str(fault.get("what")))
    try:
        run = _build(message, channel)
        asyncio.run(run.serve(message["limits"]))
    except BaseException as exc:
        channel.send(
            {
                "t": "done",
                "status": "error",
                "error_kind": "runtime",
                "error": truncate_message(f"InternalError: {type(exc).__name__}: {exc}"),
                "value": None,
                "exit_code": 0,
                "metrics": {},
            }
        )
    os._exit(0)


if __name__ == "__main__":
    main()
