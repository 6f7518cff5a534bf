"""A tqdm spinner on stderr while an agent call waits for its first token (``--stream``, chat).

``waiting(True)`` / ``waiting(False)`` count the calls that wait: the spinner shows while at
least one does and its line is cleared when the last one gets its first token. A background
thread turns it; it stops (and is joined) before the token is written, so the two never
interleave on the terminal.
"""

from __future__ import annotations

import shutil
import threading
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

FRAMES = "|/-\\"
INTERVAL = 0.1
LABEL = "waiting for the model"


class WaitSpinner:
    def __init__(self, file: IO[str], label: str = LABEL) -> None:
        self._file = file
        self._label = label
        self._waiting = 0
        self._lock = threading.Lock()
        self._bar: tqdm[Any] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def waiting(self, on: bool) -> None:
        with self._lock:
            if on:
                self._waiting += 1
                if self._waiting == 1:
                    self._show()
            elif self._waiting > 0:
                self._waiting -= 1
                if self._waiting == 0:
                    self._hide()

    def close(self) -> None:
        """Clear the spinner whatever is still waiting (the run ended or was interrupted)."""
        with self._lock:
            self._waiting = 0
            self._hide()

    def _show(self) -> None:
        from tqdm import tqdm

        # tqdm sizes itself from the terminal; a terminal that reports 0x0 (a fresh pty) would
        # hide the bar, so take shutil's size, which falls back to 80x24.
        size = shutil.get_terminal_size()
        self._bar = tqdm(
            total=None,
            desc=f"{FRAMES[0]} {self._label}",
            bar_format="{desc} {elapsed}",
            file=self._file,
            leave=False,
            ncols=size.columns,
            nrows=size.lines,
        )
        self._stop.clear()
        self._thread = threading.Thread(target=self._turn, args=(self._bar,), daemon=True)
        self._thread.start()

    def _turn(self, bar: tqdm[Any]) -> None:
        frame = 0
        while not self._stop.wait(INTERVAL):
            frame = (frame + 1) % len(FRAMES)
            bar.set_description_str(f"{FRAMES[frame]} {self._label}")

    def _hide(self) -> None:
        if self._bar is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._bar.close()
        self._bar = None
        self._thread = None
