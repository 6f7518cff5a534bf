"""One script run: a fresh Lua 5.4 runtime, the sandbox, the globals, the scheduler, the result."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lupa import lua54

from llmspell.core.config import Config
from llmspell.core.errors import LlmspellError
from llmspell.core.result import RunResult
from llmspell.lua.bridge import Bridge
from llmspell.lua.convert import Converter
from llmspell.lua.limits import LimitClock, RunLimits
from llmspell.lua.output import OutputSink
from llmspell.lua.scheduler import RunAborted, Scheduler, TaskFailed, decode, encode

HOOK_COUNT = 10_000
"""Instructions between two limit checks: ~0.1 ms of Lua, measured to cost <5% of a tight loop."""

_PRELUDE = Path(__file__).parent / "prelude" / "sandbox.lua"
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
        self.mode = mode or config.security.mode
        self.lua = lua54.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            encoding=None,
            max_memory=limits.memory_bytes,
            attribute_filter=_deny_attribute,
        )
        memory_message = encode(f"memory: memory limit of {limits.memory_mb:g} MiB exceeded")
        opts = self.lua.table_from(
            {
                b"hook_count": HOOK_COUNT,
                b"max_string_bytes": limits.memory_bytes,
                b"max_table_items": config.runtime.max_table_items,
                b"memory_message": memory_message,
            }
        )
        callbacks = self.lua.table_from(
            {
                b"tick": self.clock.tick,
                b"write": self._write,
                b"exit": self._exit,
                b"getenv": self._getenv,
                b"find_module": self._find_module,
                b"spawn": self._spawn,
                b"wait": self._start_wait,
                b"parallel": self._start_parallel,
            }
        )
        self.kernel = self.lua.execute(_PRELUDE.read_bytes(), callbacks, opts)
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
        self.scheduler.memory_message = memory_message
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
        from llmspell.lua.globals import install_all

        install_all(self.bridge)

    # -- callbacks used by the sandbox prelude ---------------------------------------------------
    def _write(self, stream: bytes, text: bytes) -> tuple[bool, bytes | None]:
        return self.output.write(decode(stream), text)

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
        if key not in self.config.security.env_allow:
            return True, None
        value = os.environ.get(key)
        return True, None if value is None else encode(value)

    def _find_module(self, name: bytes) -> tuple[bool, bytes, bytes]:
        from llmspell.lua.modules import find_module

        try:
            source, display = find_module(
                decode(name), self.spec.folder, self.config.runtime.library_paths
            )
        except LlmspellError as exc:
            return False, encode(exc.lua_message()), b""
        except OSError as exc:
            return False, encode(f"require: cannot read module '{decode(name)}': {exc}"), b""
        return True, source, encode(display)

    def _spawn(self, co: Any, packed: Any) -> int:
        return self.scheduler.spawn(co, packed)

    def _start_wait(self, task_id: Any) -> tuple[bool, Any]:
        if not isinstance(task_id, int):
            return False, b"ValidationError: invalid task handle"
        return True, self.scheduler.start_op(self.scheduler.wait(task_id))

    def _start_parallel(self, cos: Any) -> tuple[bool, Any]:
        items = sorted(cos.items())
        return True, self.scheduler.start_op(self.scheduler.parallel([co for _, co in items]))

    async def _invoke_function(self, fn: Any, args: tuple[Any, ...]) -> Any:
        """Run a Lua function (held by a ``LuaFunctionRef``) as a new task; its first result."""
        to_lua = self.converter.to_lua
        co = self.kernel[b"new_task"](fn)
        packed = await self.scheduler.drive(co, tuple(to_lua(a) for a in args))
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
        return self._run_loaded(self._load)

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

    @property
    def finished(self) -> bool:
        """True once a limit tripped or the script exited: no more code can run here."""
        return self.scheduler.abort is not None

    def cancel(self) -> None:
        self.scheduler.cancel()

    def _result(
        self, started: float, *, packed: Any = None, failure: TaskFailed | None = None
    ) -> RunResult:
        duration_ms = (time.perf_counter() - started) * 1000
        if failure is None and self.scheduler.abort is not None:
            failure = self.scheduler.abort
        value: Any = None
        status, kind, error = "ok", None, None
        if failure is not None and failure.kind == "exit":
            if self.exit_code:
                status, kind = "error", "runtime"
                error = f"{self.spec.name}: script exited with status {self.exit_code}"
        elif failure is not None:
            status, kind, error = "error", failure.kind, failure.message
            if kind == "runtime":
                match = _KIND_PREFIX.match(error)
                if match and match.group(1) in _KIND_CLASSES:
                    kind = _KIND_CLASSES[match.group(1)]
            if kind == "cancelled":
                error = "cancelled"
        elif packed is not None:
            value = self._return_value(packed)
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
            metrics={"cpu_seconds": round(self.clock.cpu_used, 6)},
        )

    def _return_value(self, packed: Any) -> Any:
        from llmspell.core.errors import ValidationError

        try:
            return self.converter.to_python(packed[2], "return value")
        except ValidationError as exc:
            return f"<{exc}>"
