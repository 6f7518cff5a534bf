"""The worker's end of its pipe to the parent: framed messages, calls and their replies.

The worker's main thread runs the Lua VM and the scheduler's event loop; a reader thread keeps
draining the pipe, so the parent never blocks on a full pipe. A reply to a call that waits
(``call``) wakes the main thread; replies to operations the scheduler awaits (``start_call``) and
the parent's requests to run a Lua function (``invoke``) are handed to the event loop.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

from llmspell.core.errors import ValidationError
from llmspell.lua.isolation.protocol import HEADER, MAX_MESSAGE, ProtocolError, frame, unframe


def read_exact(fd: int, n: int) -> bytes:
    """``n`` bytes from ``fd``; ``EOFError`` when the other end closed the pipe first."""
    parts = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def read_message(fd: int) -> dict[str, Any]:
    (size,) = HEADER.unpack(read_exact(fd, HEADER.size))
    if size > MAX_MESSAGE:
        raise ProtocolError(f"message of {size} bytes")
    return unframe(read_exact(fd, size))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Channel:
    """Messages to and from the parent over two file descriptors."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._write_lock = threading.Lock()
        self._next_id = 0
        self._waiting: int | None = None
        self._replies: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._futures: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_invoke: Callable[[dict[str, Any]], None] | None = None
        self.on_first_call: Callable[[], None] | None = None
        self.max_message = MAX_MESSAGE
        """The longest message the parent accepts (``protocol.message_limit`` of the run)."""

    def send(self, message: dict[str, Any]) -> None:
        """Send ``message``; ``ValidationError`` when it is longer than the parent accepts."""
        data = frame(message)
        if len(data) - HEADER.size > self.max_message:
            raise ValidationError(
                f"a value too large to send to the host ({len(data) - HEADER.size} bytes as a"
                f" message; at most {self.max_message})"
            )
        with self._write_lock:
            write_all(self._write_fd, data)

    def receive(self) -> dict[str, Any]:
        """The next message (before the reader thread starts)."""
        return read_message(self._read_fd)

    def start(
        self, loop: asyncio.AbstractEventLoop, on_invoke: Callable[[dict[str, Any]], None]
    ) -> None:
        """Start the reader thread; ``on_invoke`` runs on ``loop`` for each ``invoke``."""
        self._loop = loop
        self._on_invoke = on_invoke
        threading.Thread(target=self._read_loop, name="llmspell-channel", daemon=True).start()

    def _read_loop(self) -> None:
        loop = self._loop
        assert loop is not None
        while True:
            try:
                message = read_message(self._read_fd)
            except (EOFError, OSError, ProtocolError):
                os._exit(0)  # the parent is gone (or broke the protocol): nothing left to do
            kind = message["t"]
            if kind == "reply" and message.get("id") == self._waiting:
                self._replies.put(message)
            elif kind == "reply":
                future = self._futures.pop(message.get("id", -1), None)
                if future is not None:
                    loop.call_soon_threadsafe(_resolve, future, message)
            elif kind == "invoke" and self._on_invoke is not None:
                loop.call_soon_threadsafe(self._on_invoke, message)

    def _new_id(self) -> int:
        if self.on_first_call is not None:
            fault, self.on_first_call = self.on_first_call, None
            fault()
        self._next_id += 1
        return self._next_id

    def call(self, fn: int | str, args: list[Any]) -> dict[str, Any]:
        """Call host function ``fn`` and wait for its reply (the main thread blocks)."""
        call_id = self._new_id()
        self._waiting = call_id
        try:
            self.send({"t": "call", "id": call_id, "fn": fn, "args": args})
            return self._replies.get()
        finally:
            self._waiting = None

    def start_call(self, fn: int, args: list[Any]) -> asyncio.Future[dict[str, Any]]:
        """Call host function ``fn``; its reply resolves the returned future on the loop."""
        assert self._loop is not None
        call_id = self._new_id()
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._futures[call_id] = future
        try:
            self.send({"t": "call", "id": call_id, "fn": fn, "args": args})
        except BaseException:
            self._futures.pop(call_id, None)
            raise
        return future


def _resolve(future: asyncio.Future[dict[str, Any]], message: dict[str, Any]) -> None:
    if not future.done():
        future.set_result(message)
