"""Hostile workers for the protocol tests: a worker that escaped its Lua VM writes what it likes.

``hostile(body)`` gives a replacement for ``Worker.start``: a small Python program that says
``ready``, reads the ``run`` message (``run``; ``functions`` maps host function names to their
index) and then runs ``body``, with ``send(message)``, ``send_raw(bytes)`` and ``read()``.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from llmspell.lua.isolation.pool import Worker

PRELUDE = """
import json, os, struct, sys, time

def send_raw(data):
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(1, view):]

def send(message):
    send_raw(json.dumps(message).encode())

def read_exact(n):
    parts = []
    while n:
        chunk = os.read(0, n)
        if not chunk:
            raise SystemExit(0)
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)

def read():
    (n,) = struct.unpack(">I", read_exact(4))
    return json.loads(read_exact(n))

send({"t": "ready"})
run = read()
functions = {f["name"]: i for i, f in enumerate(run["plan"]["functions"])}
"""


def hostile(body: str, started: list[Worker]) -> Callable[[], Worker]:
    """A ``Worker.start`` that runs ``body`` after the run message; ``started`` collects them."""

    def start() -> Worker:
        worker = Worker.spawn([sys.executable, "-c", PRELUDE + textwrap.dedent(body)])
        started.append(worker)
        return worker

    return start


def is_gone(pid: int) -> bool:
    """Whether process ``pid`` is dead: no longer there, or a zombie left to its new parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def was_reaped(worker: Worker) -> bool:
    """Whether the worker process ended and was waited for (it left no zombie)."""
    if worker.process.returncode is None:
        return False
    try:
        os.waitpid(worker.process.pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False
