"""What ``llmspell run --stream`` shows of agent calls: their text as it arrives, and when they
wait for a first chunk (the CLI draws a spinner meanwhile).

Text goes through the run's output sink, so the output limit holds: past it the run ends with
``output_limit`` (as for ``print``); the script cannot catch that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmspell.lua.scheduler import RunAborted, decode


class WaitSignal:
    """Tells ``run.on_stream_wait`` when one call starts and stops waiting (once each way)."""

    __slots__ = ("_notify", "_waiting")

    def __init__(self, run: Any) -> None:
        self._notify: Callable[[bool], None] | None = (
            run.on_stream_wait if run.stream_to_output else None
        )
        self._waiting = False

    def start(self) -> None:
        if self._notify is not None and not self._waiting:
            self._waiting = True
            self._notify(True)

    def stop(self) -> None:
        if self._notify is not None and self._waiting:
            self._waiting = False
            self._notify(False)


class LiveText:
    """Writes one call's text chunks to the run's stdout as they arrive, and a final newline."""

    __slots__ = ("_ends_line", "_sink", "_wait")

    def __init__(self, run: Any) -> None:
        self._sink = run.output
        self._wait = WaitSignal(run)
        self._ends_line = True

    def start(self) -> None:
        self._wait.start()

    def chunk(self, chunk: dict[str, Any]) -> None:
        self._wait.stop()
        text = chunk.get("text")
        if text:
            failure = self._write(text)
            if failure is not None:
                raise RunAborted(failure, "output_limit")

    def finish(self) -> None:
        """End the call's text with a newline (so the script's next output starts a line)."""
        self._wait.stop()
        if not self._ends_line:
            self._write("\n")

    def _write(self, text: str) -> str | None:
        """Write ``text``; the limit's message when the output limit was passed (the run is
        then over: the sink refuses every later write too)."""
        ok, message = self._sink.write("stdout", text.encode("utf-8", "surrogateescape"))
        self._ends_line = text.endswith("\n") or not ok
        return None if ok else decode(message)
