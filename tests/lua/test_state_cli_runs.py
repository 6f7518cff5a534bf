"""``llmspell run`` / ``exec`` as separate processes: shared State, sessions, run records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from state_testkit import opened

from llmspell.state.runs import RunStore

COUNTER = """
local n = (State.load("custom:cli", "count") or 0) + 1
State.save("custom:cli", "count", n)
print("count " .. n)
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "llmspell.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "shared.db"}"\n')
    return path


def environment() -> dict[str, str]:
    """This environment without the suite's storage override: the config file decides."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("LLMSPELL_STORAGE__PATH", "LLMSPELL_CONFIG")
    }


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "llmspell.cli.main", "--config", str(config), *args]


def llmspell(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(config, *args), capture_output=True, text=True, timeout=60, env=environment()
    )


def runs(db: Path) -> list[dict[str, Any]]:
    with opened(db) as store:
        return RunStore(store).list()


def test_two_runs_share_state_through_the_configured_file(tmp_path: Path, config: Path) -> None:
    script = tmp_path / "counter.lua"
    script.write_text(COUNTER)
    first = llmspell(config, "run", str(script))
    second = llmspell(config, "run", str(script))
    assert first.returncode == 0, first.stderr
    assert (first.stdout, second.stdout) == ("count 1\n", "count 2\n")
    records = runs(tmp_path / "shared.db")
    assert [(r["kind"], r["status"]) for r in records] == [("script", "completed")] * 2


def test_session_option_names_the_current_session(tmp_path: Path, config: Path) -> None:
    code = "return Session.get_current()"
    first = llmspell(config, "exec", "--session", "notes", code)
    again = llmspell(config, "exec", code, "--session", "notes")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("session_") and first.stdout == again.stdout
    script = tmp_path / "s.lua"
    script.write_text("print(Session.get(Session.get_current()).name)")
    assert llmspell(config, "run", "--session", "notes", str(script)).stdout == "notes\n"
    listed = json.loads(llmspell(config, "session", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["notes"]
    assert {r["kind"] for r in runs(tmp_path / "shared.db")} == {"exec", "script"}


def start_sleeping(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(config, "--output", "json", "exec", "sleep(30)"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )


def running_id(db: Path) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if db.exists():
            running = [r for r in runs(db) if r["status"] == "running"]
            if running:
                return str(running[0]["id"])
        time.sleep(0.05)
    raise AssertionError("the run did not start")


def test_runs_cancel_stops_a_running_process(tmp_path: Path, config: Path) -> None:
    proc = start_sleeping(config)
    try:
        run_id = running_id(tmp_path / "shared.db")
        asked = llmspell(config, "runs", "cancel", run_id)
        assert asked.returncode == 0 and f"asked {run_id} to stop" in asked.stdout
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert json.loads(out)["execution_id"] == run_id
    (found,) = runs(tmp_path / "shared.db")
    assert (found["status"], found["error_kind"]) == ("cancelled", "cancelled")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_marks_the_run_interrupted(tmp_path: Path, config: Path) -> None:
    proc = start_sleeping(config)
    try:
        run_id = running_id(tmp_path / "shared.db")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert json.loads(out)["error_kind"] == "cancelled"
    (found,) = runs(tmp_path / "shared.db")
    assert (found["id"], found["status"]) == (run_id, "interrupted")
