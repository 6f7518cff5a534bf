"""``Host``: the embedding API. Runs Lua scripts in the sandbox, sync or inside an asyncio loop."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.core.config import Config, load_config
from llmspell.core.errors import ValidationError
from llmspell.core.result import RunResult
from llmspell.lua.limits import RunLimits
from llmspell.lua.run import ScriptRun, ScriptSpec
from llmspell.run_records import RunRecorder
from llmspell.services import Services
from llmspell_utils.ids import new_id

if TYPE_CHECKING:
    from llmspell.events import EventBus, HookFunction

OutputCallback = Callable[[str, str], None]


class Host:
    """Runs scripts. Each run gets its own Lua runtime; runs on one Host may run concurrently.

    ``config`` may be a path to a TOML file, a mapping of the same shape, a ``Config``, or None
    (discover the file as the CLI does, when ``discover`` is true). ``limits`` overrides
    ``[runtime]`` limits: ``cpu_seconds``, ``wall_seconds``, ``memory_mb``, ``output_bytes``.
    With ``record_runs`` (the default) every run gets a record in the store (``[storage]``),
    listed by ``llmspell runs list`` and cancellable with ``llmspell runs cancel``.
    ``budget`` (``{max_cost_usd, max_tokens_total}``) overrides the ``[runtime]`` budget of
    every run; ``cache`` turns the response cache on or off whatever ``[storage] cache`` says.
    ``isolation`` (``"in-process"`` or ``"process"``) overrides ``[runtime] isolation``: with
    ``"process"`` each run's Lua VM runs in a worker process (see docs/security.md).
    """

    def __init__(
        self,
        config: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None,
        *,
        limits: Mapping[str, Any] | None = None,
        discover: bool = False,
        record_runs: bool = True,
        budget: Mapping[str, Any] | None = None,
        cache: bool | None = None,
        isolation: str | None = None,
    ) -> None:
        self.config = load_config(config, discover=discover)
        self.isolation = _isolation(isolation or self.config.runtime.isolation)
        self.budget = dict(budget or {})
        self.cache = cache
        self.limits = RunLimits.from_config(self.config.runtime, dict(limits or {}))
        self.services = Services(self.config)
        self._recorder = RunRecorder(self.services) if record_runs else None
        self._active: dict[str, ScriptRun] = {}

    def prepare(
        self,
        source_or_path: str | bytes | os.PathLike[str],
        *,
        name: str | None = None,
        args: list[str] | None = None,
        on_output: OutputCallback | None = None,
        stdin: Any = None,
        limits: Mapping[str, Any] | None = None,
        log_level: str | None = None,
        stream: bool = False,
        mode: str | None = None,
        session: str | None = None,
        run_kind: str | None = None,
        budget: Mapping[str, Any] | None = None,
        cache: bool | None = None,
        isolation: str | None = None,
    ) -> ScriptRun:
        """A run ready to start (``run.run()`` or ``await run.run_async()``); cancellable.

        ``session`` (an id, or a name: created when new) becomes the run's current session.
        ``run_kind`` is what its run record says started it (default: ``script`` for a file,
        ``embedded`` for source text; the CLI says ``exec``).
        ``budget``, ``cache`` and ``isolation`` override the Host's for this run.
        """
        spec = _script_spec(source_or_path, name, args or [])
        run_limits = (
            RunLimits.from_config(self.config.runtime, {**self.limits.__dict__, **limits})
            if limits
            else self.limits
        )
        run_class = ScriptRun
        if _isolation(isolation or self.isolation) == "process":
            from llmspell.lua.isolation.parent import ProcessRun

            run_class = ProcessRun
        return run_class(
            spec,
            config=self.config,
            limits=run_limits,
            execution_id=new_id("run"),
            services=self.services,
            on_output=on_output,
            stdin=stdin,
            log_level=log_level,
            stream_to_output=stream,
            mode=mode,
            session_id=None if session is None else self._session_id(session),
            run_kind=run_kind or ("script" if spec.folder is not None else "embedded"),
            budget={**self.budget, **{k: v for k, v in (budget or {}).items() if v is not None}},
            cache=self.cache if cache is None else cache,
        )

    @property
    def events(self) -> EventBus:
        """The bus every run's events reach: ``host.events.subscribe("agent.*")``."""
        return self.services.events

    def register_hook(self, point: str, fn: HookFunction, priority: int | str = 0) -> str:
        """Register a Python hook that fires in every run (``llmspell.events.HookRegistry``
        has the points and what a hook may return); returns its id."""
        return self.services.hooks.register(point, fn, priority)

    def unregister_hook(self, hook_id: str) -> bool:
        """Remove a hook ``register_hook`` added; False when there is none with that id."""
        return self.services.hooks.unregister(hook_id)

    def _session_id(self, id_or_name: str) -> str:
        sessions = self.services.sessions
        record = sessions.get(id_or_name) or sessions.get_or_create(id_or_name)
        session_id: str = record["id"]
        return session_id

    def execute(self, script: ScriptRun) -> RunResult:
        """Run a prepared script synchronously (it can be cancelled from a signal handler)."""
        _refuse_inside_event_loop()
        recorder = self._started(script)
        try:
            result = script.run()
        except BaseException as exc:
            self._ended(script, recorder, error=exc)
            raise
        self._ended(script, recorder, result=result)
        return result

    def _started(self, script: ScriptRun) -> RunRecorder | None:
        """Track a run that starts: active runs, ``run.started``, its record (when recorded)."""
        self._active[script.execution_id] = script
        self._announce("run.started", script, {"script": script.spec.name})
        if self._recorder is not None and self._recorder.begin(script):
            return self._recorder
        return None

    def _ended(
        self,
        script: ScriptRun,
        recorder: RunRecorder | None,
        *,
        result: RunResult | None = None,
        error: BaseException | None = None,
    ) -> None:
        self._active.pop(script.execution_id, None)
        if result is not None:
            if recorder is not None:
                recorder.end(script, result)
            kind = "run.completed" if result.ok else "run.failed"
            self._announce(kind, script, result.to_dict())
            return
        if recorder is not None and error is not None:
            recorder.abort(script, error)
        self._announce("run.failed", script, {"status": "error", "error": repr(error)})

    def _announce(self, event: str, script: ScriptRun, data: dict[str, Any]) -> None:
        # Only when someone can listen: the host's bus exists once ``host.events`` or a run
        # used it, and building it would pull asyncio into every ``llmspell run``.
        bus = self.services.__dict__.get("events")
        if bus is not None:
            payload = {"execution_id": script.execution_id, **data}
            bus.publish(event, payload, correlation_id=script.execution_id, source="host")

    def check_syntax(self, source_or_path: str | bytes | os.PathLike[str]) -> str | None:
        """None when the script compiles, else the syntax error (``name:line: message``)."""
        return self.prepare(source_or_path).check_syntax()

    def run(
        self,
        source_or_path: str | bytes | os.PathLike[str],
        name: str | None = None,
        args: list[str] | None = None,
        **options: Any,
    ) -> RunResult:
        """Run a script synchronously. Inside a running event loop, use ``run_async``."""
        return self.execute(self.prepare(source_or_path, name=name, args=args, **options))

    async def run_async(
        self,
        source_or_path: str | bytes | os.PathLike[str],
        name: str | None = None,
        args: list[str] | None = None,
        **options: Any,
    ) -> RunResult:
        """Run a script as a task of the caller's event loop."""
        script = self.prepare(source_or_path, name=name, args=args, **options)
        recorder = self._started(script)
        try:
            result = await script.run_async()
        except BaseException as exc:
            self._ended(script, recorder, error=exc)
            raise
        self._ended(script, recorder, result=result)
        return result

    def session(self, *, on_output: OutputCallback | None = None) -> ReplSession:
        """An interactive session: chunks of code run one after another in one environment."""
        return ReplSession(self, on_output)

    def cancel(self, execution_id: str) -> bool:
        """Cancel a run in progress; False when no such run is active."""
        script = self._active.get(execution_id)
        if script is None:
            return False
        script.cancel()
        return True


def _script_spec(
    source_or_path: str | bytes | os.PathLike[str], name: str | None, args: list[str]
) -> ScriptSpec:
    if isinstance(source_or_path, bytes):
        return ScriptSpec(source_or_path, name or "script.lua", args, None)
    if isinstance(source_or_path, os.PathLike) or _looks_like_path(source_or_path):
        path = Path(source_or_path)
        return ScriptSpec(
            path.read_bytes(), name or str(source_or_path), args, path.resolve().parent
        )
    return ScriptSpec(source_or_path.encode("utf-8"), name or "script.lua", args, None)


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and text.endswith(".lua") and Path(text).is_file()


class ReplSession:
    """Keeps one sandboxed environment across chunks, as the REPL needs."""

    def __init__(self, host: Host, on_output: OutputCallback | None) -> None:
        self._host = host
        self._on_output = on_output
        self._run = self._fresh()

    def _fresh(self) -> ScriptRun:
        # One environment across chunks lives in one VM: the REPL always runs in-process.
        return self._host.prepare(
            b"", name="stdin", on_output=self._on_output, isolation="in-process"
        )

    def is_incomplete(self, source: str) -> bool:
        """True when ``source`` is a statement that continues on the next line."""
        error = self._run.check_chunk(source.encode())
        return error is not None and error.endswith("<eof>")

    def eval(self, source: str) -> RunResult:
        """Run ``source``; an expression is evaluated and returned as the result's value."""
        if self._run.finished:
            self._run = self._fresh()
        expression = "return " + source
        code = expression if self._run.check_chunk(expression.encode()) is None else source
        return self._run.run_chunk(code.encode())


def _isolation(value: str) -> str:
    if value not in ("in-process", "process"):
        raise ValidationError(f"isolation must be 'in-process' or 'process', got {value!r}")
    return value


def _refuse_inside_event_loop() -> None:
    asyncio = sys.modules.get("asyncio")  # no loop can run if asyncio was never imported
    if asyncio is not None and asyncio.events._get_running_loop() is not None:
        raise ValidationError(
            "Host.run cannot be called inside a running event loop; use await host.run_async(...)"
        )
