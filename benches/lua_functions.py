"""Call the Lua functions a script defined, again and again, inside one ``Host`` run.

A bench that times a script's inner work (a loop of ``Tool.execute`` calls, a CPU-bound loop)
must leave out the per-run setup (fresh runtime, sandbox, globals), which has a bench of its own
(``bench_run_overhead.py``). Each call runs the function as a new script task of the run, the
same path the scheduler uses for hooks and callbacks: CPU hook, limits and scheduler included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from llmspell import Host


class ScriptFunctions:
    """The global functions defined by ``source``, run in one prepared run of ``host``."""

    def __init__(self, host: Host, source: str) -> None:
        self.run = host.prepare(source, name="bench.lua")
        self._finalizers: list[Callable[[], Awaitable[None]]] = []
        result = self.run.run()
        if result.status != "ok":
            raise RuntimeError(f"bench script failed: {result.error}")

    def _task(self, name: str) -> Any:
        kernel = self.run.kernel
        return kernel[b"new_task"](kernel[b"env"][name.encode()])

    def _args(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(self.run.converter.to_lua(a) for a in args)

    def call(self, name: str, *args: Any) -> Any:
        """Run a function that never waits with plain-data arguments; its first result."""
        scheduler = self.run.scheduler
        packed = scheduler.outcome(scheduler.step(self._task(name), self._args(args)))
        return self.run.converter.to_python(packed[2], name)

    async def call_async(self, name: str, *args: Any) -> Any:
        """Run a function that may wait (tools, sleep, ``parallel``) on the running loop, as the
        run's main task; its first result.

        The run's finalizers (closing provider clients, MCP sessions) are held back until
        ``aclose``, as in one script that calls the function many times: its connections stay
        open between calls."""
        scheduler = self.run.scheduler
        task = self._task(name)
        held, scheduler.finalizers = scheduler.finalizers, []
        try:
            packed = await scheduler.run_main(task, scheduler.step(task, self._args(args)))
        finally:
            self._finalizers.extend(held + scheduler.finalizers)
            scheduler.finalizers = []
        return self.run.converter.to_python(packed[2], name)

    async def aclose(self) -> None:
        """Run the finalizers held back by ``call_async``."""
        finalizers, self._finalizers = self._finalizers, []
        for finalizer in finalizers:
            await finalizer()
