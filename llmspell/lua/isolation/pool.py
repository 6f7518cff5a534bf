"""Worker processes, and a pool that keeps a few of them started ahead of the runs.

A worker is ``python -I -m llmspell.lua.isolation.worker`` in a new session, with an environment
that holds no secret (no variable of the parent's: just ``PATH``), no file descriptor but its
stdin and stdout (the pipe to the parent; stderr goes to /dev/null), and one run to do. Starting
one costs its imports (~0.1 s of CPU); the pool pays that ahead, so a run takes a started worker
and a new one starts in the background.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from collections import deque
from typing import IO

POOL_SIZE = 2
"""Workers kept started and idle."""

WORKER_ENV = {"PATH": os.defpath, "MALLOC_ARENA_MAX": "2"}
"""The whole environment of a worker (one malloc arena: its address space limit stays tight)."""


class Worker:
    """One worker process; its pipe is ``stdin`` (to the worker) and ``stdout`` (from it)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @classmethod
    def start(cls) -> Worker:
        process = subprocess.Popen(
            [sys.executable, "-I", "-m", "llmspell.lua.isolation.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=WORKER_ENV,
            close_fds=True,
            start_new_session=True,
        )
        return cls(process)

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.process.stdout is not None
        return self.process.stdout

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Stop the worker now (safe to call from a signal handler or another thread)."""
        if self.process.poll() is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                return

    def reap(self) -> int | None:
        """Wait for the process to end (it was killed or has exited); its return code."""
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None


class WorkerPool:
    """Started workers waiting for a run; each is used once. The pool fills from the second
    run on: a process that runs one script (``llmspell run``) starts no spare worker."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = size
        self._idle: deque[Worker] = deque()
        self._lock = threading.Lock()
        self._starting = 0
        self._acquired = 0
        self._closed = False

    def acquire(self) -> Worker:
        """A started worker (a new one when none is idle); the pool refills in the background."""
        worker = None
        with self._lock:
            while self._idle and worker is None:
                candidate = self._idle.popleft()
                if candidate.alive:
                    worker = candidate
        if worker is None:
            worker = Worker.start()
        self._acquired += 1
        if self._acquired > 1:
            self._refill()
        return worker

    def _refill(self) -> None:
        with self._lock:
            missing = self.size - len(self._idle) - self._starting
            if missing <= 0 or self._closed:
                return
            self._starting += missing
        threading.Thread(target=self._start, args=(missing,), daemon=True).start()

    def _start(self, count: int) -> None:
        for _ in range(count):
            worker = Worker.start()
            with self._lock:
                self._starting -= 1
                if self._closed:
                    worker.kill()
                else:
                    self._idle.append(worker)

    def close(self) -> None:
        """Stop the idle workers (at exit)."""
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for worker in idle:
            worker.kill()
            worker.reap()


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The process-wide pool (started on first use, stopped at exit)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool()
            atexit.register(_pool.close)
        return _pool
