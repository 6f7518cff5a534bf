"""Real processes on one database file: concurrent writers, and a writer killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from llmspell.state.audit import AuditLog
from llmspell.state.checkpoints import CheckpointStore
from llmspell.state.runs import RunStore
from llmspell.state.state import StateStore
from llmspell.state.store import open_store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from llmspell.state.audit import AuditLog
    from llmspell.state.state import StateStore
    from llmspell.state.store import open_store

    db, name, go = sys.argv[1:4]
    while not os.path.exists(go):
        time.sleep(0.001)
    with open_store(path=db) as store:
        state, audit = StateStore(store), AuditLog(store)
        for i in range(200):
            state.save("global", f"{name}-{i}", {"i": i, "by": name})
            if i % 4 == 0:
                audit.append("state.save", actor=name, outcome="success", arguments={"i": i})
    """
)

KILLED_MID_TRANSACTION = textwrap.dedent(
    """
    import sys, time
    from llmspell.state.state import StateStore
    from llmspell.state.store import open_store

    store = open_store(path=sys.argv[1])
    state = StateStore(store)
    for batch in range(5):
        state.import_({"global": {f"b{batch}-{i}": "x" * 100 for i in range(100)}})
        print("committed", batch, flush=True)
    with store.transaction() as conn:
        for i in range(50):
            conn.execute("INSERT INTO state VALUES ('global', ?, '1', 0)", (f"b5-{i}",))
        print("mid", flush=True)
        time.sleep(60)
    """
)

STEPS = ["fetch", "parse", "summarise", "slow", "review", "publish"]

CHECKPOINTED_WORKFLOW = textwrap.dedent(
    """
    import sys, time
    from llmspell.state.checkpoints import CheckpointStore
    from llmspell.state.runs import RunStore
    from llmspell.state.state import StateStore
    from llmspell.state.store import open_store

    db, run_id, hang = sys.argv[1], sys.argv[2], sys.argv[3] == "hang"
    steps = sys.argv[4].split(",")
    with open_store(path=db) as store:
        runs, checkpoints, state = RunStore(store), CheckpointStore(store), StateStore(store)
        if runs.get(run_id) is None:
            runs.create("workflow", run_id=run_id)
        runs.start(run_id)
        saved = checkpoints.load_records(run_id, "wf-hash")
        completed = [record["payload"]["step"] for record in saved]
        for step in steps:
            if step in completed:
                continue
            if step == "slow" and hang:
                print("in slow step", flush=True)
                time.sleep(60)
            runs_so_far = state.load("custom:executions", step, 0)
            state.save("custom:executions", step, runs_so_far + 1)
            checkpoints.save_checkpoint(run_id, "wf-hash", {"step": step, "output": step.upper()})
        runs.finish(run_id, "completed")
    """
)


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], wanted: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == wanted:
            return
    raise AssertionError(f"child ended before printing {wanted!r}: {proc.stderr.read()}")  # type: ignore[union-attr]


def test_two_processes_writing_at_once_lose_nothing(db_path: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    children = [spawn(WRITER, str(db_path), name, str(go)) for name in ("alpha", "beta")]
    time.sleep(0.2)
    go.touch()
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    with open_store(path=db_path) as store:
        exported = StateStore(store).export("global")["global"]
        assert len(exported) == 400
        assert exported["alpha-199"] == {"i": 199, "by": "alpha"}
        assert exported["beta-0"] == {"i": 0, "by": "beta"}
        assert AuditLog(store).verify() == (True, None, "100 audit rows verified")


def test_sigkill_mid_transaction_keeps_every_commit_and_no_partial_write(db_path: Path) -> None:
    child = spawn(KILLED_MID_TRANSACTION, str(db_path))
    wait_for_line(child, "mid")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    with open_store(path=db_path) as store:
        assert store.fetch_one("PRAGMA integrity_check")[0] == "ok"
        keys = StateStore(store).list_keys("global")
        assert len(keys) == 500
        assert not any(key.startswith("b5-") for key in keys)
        assert StateStore(store).load("global", "b4-99") == "x" * 100


def test_workflow_killed_mid_run_resumes_without_repeating_steps(db_path: Path) -> None:
    run_id = "run_killed"
    child = spawn(CHECKPOINTED_WORKFLOW, str(db_path), run_id, "hang", ",".join(STEPS))
    wait_for_line(child, "in slow step")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)

    with open_store(path=db_path) as store:
        runs = RunStore(store)
        assert runs.mark_abandoned() == 1
        assert runs.get(run_id)["status"] == "interrupted"  # type: ignore[index]
        saved = CheckpointStore(store).load_records(run_id, "wf-hash")
        assert [record["payload"]["step"] for record in saved] == ["fetch", "parse", "summarise"]

    resumed = spawn(CHECKPOINTED_WORKFLOW, str(db_path), run_id, "finish", ",".join(STEPS))
    _, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err

    with open_store(path=db_path) as store:
        assert StateStore(store).export("custom:executions")["custom:executions"] == {
            step: 1 for step in STEPS
        }
        final = CheckpointStore(store).load_records(run_id, "wf-hash")
        assert [record["payload"] for record in final] == [
            {"step": step, "output": step.upper()} for step in STEPS
        ]
        assert RunStore(store).get(run_id)["status"] == "completed"  # type: ignore[index]
