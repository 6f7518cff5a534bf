"""The driver that runs script coroutines on an asyncio loop.

A script task is a Lua coroutine. ``step`` resumes it until it finishes, fails, or yields the id
of an operation a host function started; ``drive`` awaits that operation on the loop and resumes
the coroutine with its outcome. Tasks started with ``spawn``/``parallel`` are more coroutines on
the same loop, so concurrency needs no threads.

asyncio is imported only when a script first waits: it costs ~60 ms of import time, more than
half of a whole ``llmspell run hello.lua`` (measured with ``python -X importtime``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lupa import lua54

if TYPE_CHECKING:
    import asyncio

    from llmspell.lua.convert import Converter
    from llmspell.lua.limits import LimitClock


class TaskFailed(Exception):
    """A script task ended with an uncaught error (``kind`` is the outcome class)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class RunAborted(TaskFailed):
    """A limit tripped, the run was cancelled, or the script called ``os.exit``."""


@dataclass
class SpawnedTask:
    co: Any
    args: tuple[Any, ...]
    task: asyncio.Task[Any] | None = None
    observed: bool = False


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return "" if value is None else str(value)


def internal_error(exc: BaseException) -> str:
    return f"InternalError: {type(exc).__name__}: {exc}"


class Scheduler:
    def __init__(self, kernel: Any, converter: Converter, clock: LimitClock) -> None:
        self._kernel_step = kernel[b"step"]
        self._converter = converter
        self._clock = clock
        self._ops: dict[int, Awaitable[Any]] = {}
        self._next_id = 0
        self._spawned: dict[int, SpawnedTask] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.abort: RunAborted | None = None
        self._main: asyncio.Task[Any] | None = None
        self.memory_message = b"memory: memory limit exceeded"
        self.finalizers: list[Callable[[], Awaitable[None]]] = []

    # -- stepping -------------------------------------------------------------------------------
    def step(self, co: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        clock = self._clock
        clock.enter()
        try:
            result: tuple[Any, ...] = self._kernel_step(co, *args)
        except lua54.LuaMemoryError:
            # The allocation failed in the kernel itself, after the script's coroutine.
            result = (b"error", self.memory_message, b"memory")
        finally:
            clock.leave()
        return result

    def outcome(self, result: tuple[Any, ...]) -> Any:
        """The packed results of a finished step, or raise for a failed one."""
        status = result[0]
        if status == b"done":
            return result[1]
        message, kind = decode(result[1]), decode(result[2])
        if kind == "runtime":
            raise TaskFailed(message, kind)
        aborted = RunAborted(message, kind)
        if self.abort is None:
            self.abort = aborted
        raise aborted

    def start_op(self, awaitable: Awaitable[Any]) -> int:
        """Register an operation a host function started; the coroutine yields its id."""
        self._next_id += 1
        self._ops[self._next_id] = awaitable
        return self._next_id

    async def drive(
        self, co: Any, args: tuple[Any, ...], first: tuple[Any, ...] | None = None
    ) -> Any:
        """Run one script task to its end; returns its packed results."""
        import asyncio

        result = self.step(co, args) if first is None else first
        to_lua = self._converter.to_lua
        while result[0] == b"yield":
            op = self._ops.pop(result[1])
            try:
                resume: tuple[Any, ...] = (True, to_lua(await op))
            except (RunAborted, asyncio.CancelledError):
                raise
            except Exception as exc:
                # (False, message, kind): the kind of a limit the operation reached, if any
                from llmspell.lua.host_calls import failure

                resume = failure(exc, self._converter)
            if self.abort is not None:
                # The operation ran Lua code that ended the run (a limit, os.exit in a hook or
                # a Lua tool) and Python code in between turned that into an error: stop here.
                raise self.abort
            result = self.step(co, resume)
        return self.outcome(result)

    # -- concurrency ----------------------------------------------------------------------------
    def spawn(self, co: Any, packed: Any) -> int:
        """Register a task started by ``spawn``; it runs as soon as the loop does."""
        n = packed[b"n"]
        anchor = self._converter.anchor
        record = SpawnedTask(co, tuple(anchor(packed[i]) for i in range(1, n + 1)))
        self._next_id += 1
        self._spawned[self._next_id] = record
        if self._loop is not None:
            record.task = self._loop.create_task(self._run_spawned(record))
        return self._next_id

    @property
    def needs_loop(self) -> bool:
        return bool(self._spawned)

    async def _run_spawned(self, record: SpawnedTask) -> Any:
        try:
            return await self.drive(record.co, record.args)
        except RunAborted as exc:
            self._abort_main(exc)
            raise

    def _abort_main(self, exc: RunAborted) -> None:
        if self.abort is None:
            self.abort = exc
        if self._main is not None and not self._main.done():
            self._main.cancel()

    async def wait(self, task_id: int) -> Any:
        record = self._spawned[task_id]
        record.observed = True
        assert record.task is not None
        return await record.task

    async def parallel(self, cos: list[Any]) -> list[Any]:
        import asyncio

        assert self._loop is not None
        tasks = [self._loop.create_task(self.drive(co, ())) for co in cos]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def cancel(self) -> None:
        """Stop the run: the hook reports it to running Lua code, waits are cancelled."""
        self._clock.cancel()
        if self.abort is None:
            self.abort = RunAborted("cancelled", "cancelled")
        loop, main = self._loop, self._main
        if loop is not None and main is not None and not main.done():
            loop.call_soon_threadsafe(main.cancel)

    async def run_main(self, co: Any, first: tuple[Any, ...] | None) -> Any:
        """Drive the main task (continuing from ``first``) and then every spawned task."""
        import asyncio

        self._loop = asyncio.get_running_loop()
        for record in self._spawned.values():
            if record.task is None:
                record.task = self._loop.create_task(self._run_spawned(record))
        self._main = self._loop.create_task(self.drive(co, (), first))
        watcher = self._loop.create_task(self._watch()) if self._clock.watched else None
        try:
            async with asyncio.timeout(max(self._clock.wall_remaining, 0.0)):
                try:
                    packed = await self._main
                except asyncio.CancelledError:
                    if self.abort is not None:
                        raise self.abort from None
                    raise
                await self._finish_spawned()
        except TimeoutError:
            raise RunAborted(decode(self._clock.wall_message()), "timeout") from None
        finally:
            if watcher is not None:
                watcher.cancel()
            await self._cancel_all()
        return packed

    async def _watch(self) -> None:
        """While the script waits, poll the clock's watch check: Lua code is not running, so
        the count hook cannot."""
        import asyncio

        while not self._clock.poll():
            await asyncio.sleep(self._clock.seconds_to_check)
        self.cancel()

    async def _finish_spawned(self) -> None:
        import asyncio

        while True:
            pending = [
                r for r in self._spawned.values() if r.task is not None and not r.task.done()
            ]
            if not pending:
                break
            await asyncio.wait([r.task for r in pending if r.task is not None])
        if self.abort is not None:
            raise self.abort
        for record in self._spawned.values():
            task = record.task
            if task is None or record.observed or task.cancelled():
                continue
            exc = task.exception()
            if exc is not None:
                raise exc

    async def _cancel_all(self) -> None:
        import asyncio

        tasks = [r.task for r in self._spawned.values() if r.task is not None and not r.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for record in self._spawned.values():
            # Failures of tasks nobody waited for were reported through the run; retrieving
            # them keeps asyncio from logging them again when the tasks are collected.
            if record.task is not None and record.task.done() and not record.task.cancelled():
                record.task.exception()
        for op in self._ops.values():
            close: Callable[[], None] | None = getattr(op, "close", None)
            if close is not None:
                close()
        self._ops.clear()
        for finalizer in self.finalizers:
            await finalizer()
