"""Run a command as a fresh process and measure its peak RSS, the way a user's shell would.

Children run under GNU time (``/usr/bin/time -f %M``): a child forked from the benchmark process
would report the benchmark's own RSS as its peak. Byte-code caching is on (into a private
``PYTHONPYCACHEPREFIX``) as an installed package has it even where the developer's shell sets
``PYTHONDONTWRITEBYTECODE``; config and data folders are the bench's own (a fresh user).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def llmspell_command() -> list[str]:
    """The installed ``llmspell`` command (the venv's, else the one on PATH)."""
    script = Path(sys.executable).with_name("llmspell")
    found = str(script) if script.exists() else shutil.which("llmspell")
    if found is None:
        pytest.skip("the llmspell command is not installed")
    return [found]


def time_command() -> str:
    found = shutil.which("time", path="/usr/bin:/bin")
    if found is None:
        pytest.skip("/usr/bin/time (GNU time) is needed for the peak RSS of a child")
    return found


def child_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    env["XDG_CONFIG_HOME"] = str(folder / "config")
    env["XDG_DATA_HOME"] = str(folder / "data")
    env.pop("LLMSPELL_CONFIG", None)
    return env


def run_child(argv: list[str], cwd: Path) -> tuple[bytes, float]:
    """Run a command in ``cwd`` to its end; its stdout and its peak RSS in MiB."""
    report = cwd / "rss.txt"
    proc = subprocess.run(
        [time_command(), "-f", "%M", "-o", str(report), *argv],
        cwd=cwd,
        env=child_env(cwd),
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    return proc.stdout, int(report.read_text().split()[-1]) / 1024


@contextmanager
def mock_server_process(folder: Path, replies: list[dict[str, Any]]) -> Iterator[str]:
    """``llmspell mock-server`` in a process of its own (its threads do not share the bench's
    GIL) answering ``replies`` (scripted steps); yields its base URL."""
    script = folder / "mock-replies.json"
    script.write_text(json.dumps({"replies": replies}))
    proc = subprocess.Popen(
        [*llmspell_command(), "mock-server", "--port", "0", "--script", str(script)],
        cwd=folder,
        env=child_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"llmspell mock-server did not start (said {base_url!r})")
        yield base_url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
