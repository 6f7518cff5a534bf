"""One script run: a fresh Lua 5.4 runtime, the sandbox, the globals, the scheduler, the result."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lupa import lua54

from llmspell.core.config import Config
from llmspell.core.errors import LimitExceeded, LlmspellError, ValidationError
from llmspell.core.result import RunResult
from llmspell.lua.bridge import Bridge
from llmspell.lua.convert import Converter
from llmspell.lua.host_calls import guarded
from llmspell.lua.limits import (
    LimitClock,
    RunLimits,
    memory_message,
    sandbox_options,
    truncate_message,
)
from llmspell.lua.output import OutputSink
from llmspell.lua.scheduler import RunAborted, Scheduler, TaskFailed, decode, encode
from llmspell.run_context import RunContext
from llmspell.services import Services

_PRELUDE = Path(__file__).parent / "prelude" / "sandbox.lua"
_PATTERNS = Path(__file__).parent / "prelude" / "patterns.lua"
_KIND_PREFIX = re.compile(r"^(?:[^\n:]+:\d+: )?([A-Za-z]+):")
_KIND_CLASSES = {"SandboxViolation": "sandbox_violation", "PermissionDenied": "sandbox_violation"}


def _deny_attribute(obj: Any, name: Any, is_setting: bool) -> Any:
    # Defence in depth: no Python object should ever reach a script, but if one did, none of its
    # attributes would be readable or writable from Lua.
    raise AttributeError("access denied")


@dataclass
class ScriptSpec:
    """What to run: Lua source text, the name errors show, and its arguments."""

    source: bytes
    name: str = "script.lua"
    args: list[str] = field(default_factory=list)
    folder: Path | None = None


class ScriptRun:
    def __init__(
        self,
        spec: ScriptSpec,
        *,
        config: Config,
        limits: RunLimits,
        execution_id: str,
        services: Any = None,
        on_output: Callable[[str, str], None] | None = None,
        stdin: Any = None,
        log_level: str | None = None,
        stream_to_output: bool = False,
        mode: str | None = None,
        session_id: str | None = None,
        run_kind: str = "embedded",
        budget: Mapping[str, Any] | None = None,
        cache: bool | None = None,
    ) -> None:
        self.spec = spec
        self.config = config
        self.limits = limits
        self.execution_id = execution_id
        self.clock = LimitClock(limits)
        self.output = OutputSink(limits.output_bytes, on_output)
        self.exit_code = 0
        self.stdin = stdin
        self.log_level = log_level or "info"
        self.stream_to_output = stream_to_output
        self.on_stream_wait: Callable[[bool], None] | None = None
        """With ``stream_to_output``: told ``True`` when an agent call starts waiting for its
        first chunk and ``False`` when it arrives or the call ends (the CLI's spinner)."""
        self.mode = mode or config.security.mode
        self.session_id = session_id
        """The run's current session (``Session.get_current``); the script may change it."""
        self.run_kind = run_kind
        """What started the run, as its record says: script, exec, workflow or embedded."""
        self.cancel_reason: str | None = None
        """``cancelled`` or ``interrupted`` (Ctrl+C, SIGTERM) once the run was asked to stop."""
        self.context = RunContext(
            services if services is not None else Services(config),
            execution_id,
            session=lambda: self.session_id,
            budget=budget,
            cache=cache,
            warn=self._warn,
        )
        """The run's hooks, events, audit trail, budget and response cache."""
        self.ended = False
        """True once ``run``/``run_async`` returned: the script's functions cannot run again."""
        self._start_vm(services)

    def _start_vm(self, services: Any) -> None:
        """The Lua side of the run: runtime, sandbox, converter, scheduler and globals."""
        config, limits, spec = self.config, self.limits, self.spec
        self.lua = lua54.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            encoding=None,
            max_memory=limits.memory_bytes,
            attribute_filter=_deny_attribute,
        )
        opts = self.lua.table_from(sandbox_options(limits, config.runtime))

        def converter() -> Converter:
            return self.converter

        callbacks = self.lua.table_from(
            {
                b"tick": self.clock.tick,
                **{
                    name: guarded(fn, converter)
                    for name, fn in (
                        (b"write", self._write),
                        (b"exit", self._exit),
                        (b"getenv", self._getenv),
                        (b"find_module", self._find_module),
                        (b"spawn", self._spawn),
                        (b"wait", self._start_wait),
                        (b"parallel", self._start_parallel),
                        (b"pattern_engine", _pattern_engine),
                    )
                },
            }
        )
        self.kernel = self.lua.execute(prelude_code(), callbacks, opts)
        self.lua.globals()[b"python"] = None
        self.null = self.lua.eval(
            b"setmetatable({}, {__metatable = false, __tostring = function() return 'null' end,"
            b" __newindex = function() error('JSON.null is read-only', 2) end})"
        )
        marks = self.lua.eval(b"setmetatable({}, {__mode = 'k'})")
        mark_of, new_array = self.lua.execute(
            b"local marks, null = ...; marks[null] = 'null';"
            b"return function(t) return marks[t] end,"
            b" function() local t = {}; marks[t] = 'array'; return t end",
            marks,
            self.null,
        )
        self.kernel[b"marks"] = marks
        self.kernel[b"null"] = self.null
        # lupa ties a Lua value received in a callback to the coroutine that made the call: once
        # that coroutine is collected, the Python object would point at freed memory. Values the
        # host keeps longer than one call are taken again through the main thread first.
        self.rehome = self.lua.eval(b"function(...) return ... end")
        self.converter = Converter(
            self.lua,
            mark_of,
            new_array,
            self.null,
            self._invoke_function,
            max_depth=config.runtime.max_table_depth,
            max_items=config.runtime.max_table_items,
        )
        self.scheduler = Scheduler(self.kernel, self.converter, self.clock)
        self.scheduler.memory_message = encode(memory_message(limits))
        self.bridge = Bridge(
            self.lua,
            self.kernel,
            self.converter,
            self.scheduler,
            config=config,
            services=services,
            script_name=spec.name,
        )
        self.bridge.run = self  # type: ignore[attr-defined]
        self._install()

    def _install(self) -> None:
        """Install the globals (the adapters of ``llmspell.lua.globals``)."""
        from llmspell.lua.globals import install_all

        install_all(self.bridge)

    def _warn(self, message: str) -> None:
        self.output.write("stderr", message.encode())

    # -- callbacks used by the sandbox prelude ---------------------------------------------------
    def _write(self, stream: bytes, text: bytes) -> tuple[bool, bytes | None, bytes | None]:
        ok, message = self.output.write(decode(stream), text)
        return ok, message, None if ok else b"output_limit"

    def _exit(self, code: Any) -> tuple[bool, bytes | None]:
        if code is None or code is True:
            self.exit_code = 0
        elif code is False:
            self.exit_code = 1
        elif isinstance(code, int) and 0 <= code <= 255:
            self.exit_code = code
        else:
            return False, b"ValidationError: os.exit expects an integer from 0 to 255 or a boolean"
        return True, None

    def _getenv(self, name: Any) -> tuple[bool, Any]:
        import os

        if not isinstance(name, bytes):
            return False, b"ValidationError: os.getenv expects a string"
        key = decode(name)
        if not self.config.security.env_allow:
            return True, None
        if not self.bridge.services.permissions.allowed_env_names([key]):
            return True, None
        value = os.environ.get(key)
        return True, None if value is None else encode(value)

    def _find_module(self, name: bytes) -> tuple[bool, bytes, bytes | None]:
        from llmspell.lua.modules import find_module

        try:
            source, display = find_module(
                decode(name), self.spec.folder, self.config.runtime.library_paths
            )
        except LlmspellError as exc:
            return False, encode(exc.lua_message()), None
        except OSError as exc:
            return False, encode(f"require: cannot read module '{decode(name)}': {exc}"), None
        return True, source, encode(display)

    def _spawn(self, co: Any, packed: Any) -> tuple[bool, int]:
        return True, self.scheduler.spawn(co, self.rehome(packed))

    def _start_wait(self, task_id: Any) -> tuple[bool, Any]:
        if not isinstance(task_id, int):
            return False, b"ValidationError: invalid task handle"
        return True, self.scheduler.start_op(self.scheduler.wait(task_id))

    def _start_parallel(self, cos: Any) -> tuple[bool, Any]:
        items = sorted(cos.items())
        return True, self.scheduler.start_op(self.scheduler.parallel([co for _, co in items]))

    async def _invoke_function(self, fn: Any, args: tuple[Any, ...]) -> Any:
        """Run a Lua function (held by a ``LuaFunctionRef``) as a new task; its first result.

        Nothing of a script runs after its run ended: then the call is refused.
        """
        if self.ended:
            raise ValidationError("the run this Lua function belongs to has ended")
        if self.scheduler.abort is not None:
            raise self.scheduler.abort
        to_lua = self.converter.to_lua
        try:
            lua_args = tuple(to_lua(a) for a in args)
        except LimitExceeded as exc:
            message = memory_message(self.limits) if exc.error_kind == "memory" else str(exc)
            self.kernel[b"trip_now"](encode(exc.error_kind), encode(message))
            raise RunAborted(message, exc.error_kind) from None
        co = self.kernel[b"new_task"](fn)
        packed = await self.scheduler.drive(co, lua_args)
        return self.converter.to_python(packed[2], "function result")

    # -- running -----------------------------------------------------------------------------------
    def _load(self) -> Any:
        source = self.spec.source
        if source.startswith(b"#!"):
            source = b"--" + source[2:]  # keeps line numbers, unlike dropping the line
        fn, err = self.kernel[b"load_script"](source, b"@" + encode(self.spec.name))
        if fn is None:
            message = decode(err)
            kind = "sandbox_violation" if "SandboxViolation" in message else "syntax"
            raise TaskFailed(message, kind)
        return fn

    def check_syntax(self) -> str | None:
        source = self.spec.source
        if source.startswith(b"#!"):
            source = b"--" + source[2:]
        return self.check_chunk(source, "@" + self.spec.name)

    def check_chunk(self, source: bytes, chunkname: str = "=stdin") -> str | None:
        """None when ``source`` compiles, else the syntax error."""
        fn, err = self.kernel[b"check_syntax"](source, encode(chunkname))
        return None if fn is not None else decode(err)

    def run(self) -> RunResult:
        """Run synchronously; an asyncio loop is started only if the script waits."""
        try:
            return self._run_loaded(self._load)
        finally:
            self.ended = True
            self.context.flush()  # a run ended by an exception wrote no result

    def run_chunk(self, source: bytes, name: str = "stdin") -> RunResult:
        """Run more code in this run's environment (the REPL); limits restart for each chunk."""
        self.clock.restart()

        def load() -> Any:
            fn, err = self.kernel[b"load_script"](source, b"=" + encode(name))
            if fn is None:
                raise TaskFailed(decode(err), "syntax")
            return fn

        return self._run_loaded(load)

    def _run_loaded(self, load: Callable[[], Any]) -> RunResult:
        started = time.perf_counter()
        try:
            main = self.kernel[b"new_task"](load())
            first = self.scheduler.step(main, ())
            if first[0] == b"yield" or self.scheduler.needs_loop:
                import asyncio

                packed = asyncio.run(self.scheduler.run_main(main, first))
            else:
                packed = self.scheduler.outcome(first)
            return self._result(started, packed=packed)
        except TaskFailed as exc:
            return self._result(started, failure=exc)
        except KeyboardInterrupt:
            self.cancel_reason = "interrupted"
            return self._result(started, failure=RunAborted("cancelled", "cancelled"))

    async def run_async(self) -> RunResult:
        """Run inside the caller's event loop (cancelling the awaiting task cancels the run)."""
        started = time.perf_counter()
        try:
            main = self.kernel[b"new_task"](self._load())
            packed = await self.scheduler.run_main(main, None)
            return self._result(started, packed=packed)
        except TaskFailed as exc:
            return self._result(started, failure=exc)
        finally:
            self.ended = True
            self.context.flush()  # a run ended by an exception wrote no result

    @property
    def finished(self) -> bool:
        """True once a limit tripped or the script exited: no more code can run here."""
        return self.scheduler.abort is not None

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the run; ``reason`` is ``interrupted`` when the user interrupted the process."""
        if self.cancel_reason is None:
            self.cancel_reason = reason
        self.scheduler.cancel()

    def _result(
        self, started: float, *, packed: Any = None, failure: TaskFailed | None = None
    ) -> RunResult:
        duration_ms = (time.perf_counter() - started) * 1000
        self.context.flush()  # before the output is read: a failed write warns on stderr
        if failure is None and self.scheduler.abort is not None:
            failure = self.scheduler.abort
        value: Any = None
        status, kind, error = "ok", None, None
        if failure is not None and failure.kind == "exit":
            if self.exit_code:
                status, kind = "error", "runtime"
                error = f"{self.spec.name}: script exited with status {self.exit_code}"
        elif failure is not None:
            status, kind, error = "error", failure.kind, truncate_message(failure.message)
            if kind == "runtime":
                match = _KIND_PREFIX.match(error)
                if match and match.group(1) in _KIND_CLASSES:
                    kind = _KIND_CLASSES[match.group(1)]
            if kind == "cancelled":
                error = "cancelled"
        elif packed is not None:
            value = self._return_value(packed)
        # before the output is read: reading the session's totals may warn on stderr
        metrics = {"cpu_seconds": round(self.clock.cpu_used, 6), **self.context.usage()}
        return RunResult(
            status=status,
            error_kind=kind,
            error=error,
            value=value,
            output=self.output.text("stdout"),
            stderr=self.output.text("stderr"),
            duration_ms=duration_ms,
            execution_id=self.execution_id,
            exit_code=self.exit_code,
            metrics=metrics,
        )

    def _return_value(self, packed: Any) -> Any:
        from llmspell.core.errors import ValidationError

        try:
            return self.converter.to_python(packed[2], "return value")
        except ValidationError as exc:
            return f"<{exc}>"


def _pattern_engine() -> tuple[bool, bytes]:
    """The source of the interruptible pattern matcher (``prelude/patterns.lua``)."""
    return True, patterns_source()


@cache
def patterns_source() -> bytes:
    return _PATTERNS.read_bytes()


@cache
def prelude_code() -> bytes:
    """The sandbox prelude, compiled once per process and stripped of line information: errors
    raised by C library functions the sandbox calls for a script then carry no position inside
    the sandbox (as under ``pcall``). Loading our own compiled code also skips the parsing."""
    compiler = lua54.LuaRuntime(register_eval=False, register_builtins=False, encoding=None)
    dump = compiler.eval(
        b"function(source) return string.dump(assert(load(source, '=sandbox')), true) end"
    )
    code: bytes = dump(_PRELUDE.read_bytes())
    return code
