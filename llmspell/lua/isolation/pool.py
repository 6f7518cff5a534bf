"""Worker processes, and a pool that keeps a few of them started ahead of the runs.

A worker is ``python -I -m llmspell.lua.isolation.worker`` in a new session (its own process
group), with an environment that holds no secret (no variable of the parent's: just ``PATH`` and
``MALLOC_ARENA_MAX``), no file descriptor but its stdin and stdout (the pipe to the parent;
stderr goes to /dev/null), and one run to do. Stopping a worker kills its whole process group,
so processes it forked die with it; on Linux the worker also asks to be killed when the thread
that started it ends (``PR_SET_PDEATHSIG``). Starting one costs its imports (~0.1 s of CPU);
the pool pays that ahead, so a run takes a started worker and a new one starts in the background.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from typing import IO

POOL_SIZE = 2
"""Workers kept started and idle."""

WORKER_ENV = {"PATH": os.defpath, "MALLOC_ARENA_MAX": "2"}
"""The whole environment of a worker (one malloc arena: its address space limit stays tight)."""

REAP_SECONDS = 5.0
"""How long the end of a run waits for its killed worker to be gone before leaving the wait to
a background thread."""


class Worker:
    """One worker process; its pipe is ``stdin`` (to the worker) and ``stdout`` (from it)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @classmethod
    def start(cls) -> Worker:
        """A new worker process (the parent's pid lets it check it was not orphaned at once)."""
        module = "llmspell.lua.isolation.worker"
        return cls.spawn([sys.executable, "-I", "-m", module, str(os.getpid())])

    @classmethod
    def spawn(cls, command: list[str]) -> Worker:
        """``command`` run as a worker: own session, bare environment, only the pipe."""
        process = subprocess.Popen(
            command,
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
        """Kill the worker's process group: the worker and whatever it forked (safe to call from
        a signal handler or another thread). Until the worker is reaped its pid, and with it the
        group's id, cannot be reused, so the signal reaches no other process."""
        if self.process.returncode is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                self.process.kill()
            except ProcessLookupError:
                return

    def reap(self) -> int | None:
        """Wait for the process to end (it was killed or has exited); its return code."""
        try:
            return self.process.wait(timeout=REAP_SECONDS)
        except subprocess.TimeoutExpired:
            self.reap_later()
            return None

    def reap_later(self) -> None:
        """Leave the wait for the process's end to a background thread (no zombie is left)."""
        threading.Thread(target=self.process.wait, name="llmspell-reaper", daemon=True).start()

    async def ended(self) -> int | None:
        """Wait for the process to end without blocking the loop; its return code (None when it
        takes longer than ``REAP_SECONDS``: a background thread then reaps it)."""
        delay, waited = 0.001, 0.0
        try:
            while waited < REAP_SECONDS:
                code = self.process.poll()
                if code is not None:
                    return code
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 0.05)
        except BaseException:
            self.reap_later()
            raise
        self.reap_later()
        return None


class WorkerPool:
    """Started workers waiting for a run; each is used once. The pool fills from the second
    run on: a process that runs one script (``llmspell run``) starts no spare worker.

    Spare workers are started by one long-lived thread: a worker asks the kernel to kill it when
    the thread that started it ends, so that thread must last as long as the process."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = size
        self._idle: deque[Worker] = deque()
        self._changed = threading.Condition()
        self._acquired = 0
        self._closed = False
        self._filler: threading.Thread | None = None

    def acquire(self) -> Worker:
        """A started worker (a new one when none is idle); the pool refills in the background."""
        worker = None
        with self._changed:
            while self._idle and worker is None:
                candidate = self._idle.popleft()
                if candidate.alive:
                    worker = candidate
            self._acquired += 1
            if self._acquired > 1 and self.size > 0 and not self._closed:
                if self._filler is None:
                    self._filler = threading.Thread(
                        target=self._fill, name="llmspell-worker-pool", daemon=True
                    )
                    self._filler.start()
                self._changed.notify_all()
        return worker if worker is not None else Worker.start()

    def _fill(self) -> None:
        while True:
            with self._changed:
                while not self._closed and len(self._idle) >= self.size:
                    self._changed.wait()
                if self._closed:
                    return
            try:
                worker = Worker.start()
            except OSError:
                with self._changed:
                    self._filler = None  # the next run starts another filler
                return
            with self._changed:
                if self._closed:
                    worker.kill()
                    worker.reap()
                    return
                self._idle.append(worker)

    def close(self) -> None:
        """Stop the idle workers (at exit)."""
        with self._changed:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            self._changed.notify_all()
        for worker in idle:
            worker.kill()
            worker.reap()


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The process-wide pool (started on first use; its idle workers are stopped at exit)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool()
            atexit.register(_pool.close)
        return _pool
