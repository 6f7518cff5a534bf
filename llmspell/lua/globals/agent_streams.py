"""The agent streams the scripts of one run are reading, by number.

A stream is the agent's async generator of chunks (``Agent.open_stream``). The Lua iterator
asks for one chunk at a time (``next``): each request is one scheduler wait on the run's loop,
answered as soon as the provider produced the chunk. Leaving a loop early closes the stream;
streams still open when the run ends are closed then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ValidationError
from llmspell.lua.globals.agent_live import WaitSignal

if TYPE_CHECKING:
    import asyncio

    from llmspell.agents.agent import Agent, AgentStream


@dataclass
class _Open:
    stream: AgentStream
    wait: WaitSignal
    finished: bool = False
    reading: bool = False


def _as_is(chunk: dict[str, Any]) -> Any:
    return chunk


@dataclass
class RunStreams:
    """Open streams by number; ``run`` is the ``ScriptRun`` (for ``--stream``'s wait signal)
    and ``convert`` turns each chunk into what ``next`` returns (a Lua table)."""

    run: Any
    convert: Callable[[dict[str, Any]], Any] = _as_is
    _open: dict[int, _Open] = field(default_factory=dict)
    _last_id: int = 0
    _closing: set[asyncio.Task[None]] = field(default_factory=set)

    def open(self, agent: Agent, input: Any) -> int:
        stream = agent.open_stream(input)
        self._last_id += 1
        wait = WaitSignal(self.run)
        wait.start()
        self._open[self._last_id] = _Open(stream, wait)
        return self._last_id

    async def next(self, stream_id: int) -> Any:
        """The next chunk, converted; ``None`` once the stream has ended (or was closed)."""
        entry = self._open.get(stream_id)
        if entry is None or entry.finished:
            return None
        if entry.reading:
            raise ValidationError("agent stream: another coroutine is reading this stream")
        entry.reading = True
        try:
            chunk: dict[str, Any] = await anext(entry.stream.chunks)
        except StopAsyncIteration:
            entry.finished = True
            entry.wait.stop()
            return None
        except BaseException:
            entry.wait.stop()
            self._open.pop(stream_id, None)
            raise
        finally:
            entry.reading = False
        entry.wait.stop()
        return self.convert(chunk)

    def output(self, stream_id: int) -> dict[str, Any]:
        """The call's output, once every chunk was read; forgets the stream."""
        entry = self._open.get(stream_id)
        output = None if entry is None or not entry.finished else entry.stream.output
        if output is None:
            raise ValidationError("agent stream: the output is known only once every chunk is read")
        del self._open[stream_id]
        return output

    async def close(self, stream_id: int) -> None:
        """Stop a stream now (a loop left early): its connection is released."""
        entry = self._open.pop(stream_id, None)
        if entry is not None:
            entry.wait.stop()
            await entry.stream.aclose()

    def release(self, stream_id: int) -> None:
        """``close`` where the script cannot wait: the stream closes on the loop soon after."""
        import asyncio

        entry = self._open.pop(stream_id, None)
        if entry is None:
            return
        entry.wait.stop()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the call never started, there is nothing to release
        task = loop.create_task(entry.stream.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close_all(self) -> None:
        """Close every stream still open (the run is ending)."""
        import asyncio

        entries, self._open = list(self._open.values()), {}
        for entry in entries:
            entry.wait.stop()
            await entry.stream.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
