"""Captured script output (print, io.write, io.stderr), bounded by the run's output limit."""

from __future__ import annotations

from collections.abc import Callable

TRUNCATED = "\n[output truncated: limit of {limit} bytes reached]\n"


class OutputSink:
    """Collects what a script writes; ``on_output`` sees each piece as it is written."""

    def __init__(self, limit: int, on_output: Callable[[str, str], None] | None = None) -> None:
        self.limit = limit
        self.used = 0
        self.on_output = on_output
        self._parts: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.truncated = False

    def write(self, stream: str, data: bytes) -> tuple[bool, bytes | None]:
        """Record ``data``; returns ``(False, message)`` once the limit is passed."""
        if self.truncated:
            return False, self._message()
        room = self.limit - self.used
        fits = len(data) <= room
        piece = data if fits else data[: max(room, 0)]
        self.used += len(piece)
        text = piece.decode("utf-8", "replace")
        if not fits:
            self.truncated = True
            text += TRUNCATED.format(limit=self.limit)
        self._parts.setdefault(stream, []).append(text)
        if self.on_output is not None:
            try:
                self.on_output(stream, text)
            except Exception:
                # A closed pipe or a failing callback must not reach the script (it would arrive
                # as a Python object); the output is still captured in the result.
                self.on_output = None
        return (True, None) if fits else (False, self._message())

    def _message(self) -> bytes:
        return f"output_limit: output limit of {self.limit} bytes exceeded".encode()

    def text(self, stream: str = "stdout") -> str:
        return "".join(self._parts.get(stream, ()))
