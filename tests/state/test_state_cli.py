from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmspell.cli.main import cli
from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.state.artifacts import ArtifactStore
from llmspell.state.audit import AuditLog
from llmspell.state.checkpoints import CheckpointStore
from llmspell.state.conversations import ConversationStore
from llmspell.state.runs import RunStore
from llmspell.state.sessions import SessionStore
from llmspell.state.store import open_store


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMSPELL_CONFIG", raising=False)
    monkeypatch.delenv("LLMSPELL_STORAGE__PATH", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return CliRunner()


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_state_set_get_show_delete(runner: CliRunner, db_path: Path) -> None:
    def run(*args: str, **kwargs: str) -> Result:
        return runner.invoke(cli, ["state", *args, "--db", str(db_path)], **kwargs)

    ok(run("set", "count", "5"))
    ok(run("set", "name", "alice"))
    ok(run("set", "raw", "5", "--string"))
    ok(run("set", "cfg", '{"a": [1, 2.5]}', "--scope", "tool:x"))
    assert ok(run("get", "count")) == "5\n"
    assert ok(run("get", "name")) == "alice\n"
    assert ok(run("get", "raw", "--json")) == '"5"\n'
    assert json.loads(ok(run("show", "--json"))) == {
        "global": {"count": 5, "name": "alice", "raw": "5"},
        "tool:x": {"cfg": {"a": [1, 2.5]}},
    }
    text = ok(run("show"))
    assert "[tool:x]" in text and 'cfg = {"a":[1,2.5]}' in text
    ok(run("delete", "count"))
    missing = run("get", "count")
    assert isinstance(missing.exception, NotFoundError)
    assert str(missing.exception) == "key 'count' not found in scope 'global'"
    assert isinstance(run("delete", "count").exception, NotFoundError)


def test_global_json_output(runner: CliRunner, db_path: Path) -> None:
    db = ["--db", str(db_path)]
    ok(runner.invoke(cli, ["state", "set", "name", "alice", *db]))
    assert ok(runner.invoke(cli, ["--output", "json", "state", "get", "name", *db])) == (
        '"alice"\n'
    )
    verified = ok(runner.invoke(cli, ["--output", "json", "audit", "verify", *db]))
    assert json.loads(verified) == {
        "ok": True,
        "first_bad_seq": None,
        "reason": "0 audit rows verified",
    }


def test_state_export_and_import(runner: CliRunner, tmp_path: Path) -> None:
    source, target = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    ok(runner.invoke(cli, ["state", "set", "k", "[1, 2]", "--db", source]))
    out = tmp_path / "state.json"
    ok(runner.invoke(cli, ["state", "export", "-o", str(out), "--db", source]))
    assert json.loads(out.read_text()) == {"global": {"k": [1, 2]}}
    imported = runner.invoke(cli, ["state", "import", str(out), "--db", target])
    assert ok(imported) == "imported 1 keys\n"
    ok(
        runner.invoke(
            cli, ["state", "import", "-", "--db", target], input='{"agent:a": {"x": true}}'
        )
    )
    exported = ok(runner.invoke(cli, ["state", "export", "--db", target]))
    assert json.loads(exported) == {"agent:a": {"x": True}, "global": {"k": [1, 2]}}
    bad = runner.invoke(cli, ["state", "import", "-", "--db", target], input="{nope")
    assert isinstance(bad.exception, ValidationError)
    assert "<stdin>: invalid JSON at line 1" in str(bad.exception)


def test_database_comes_from_config_or_environment(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLMSPELL_STORAGE__PATH", raising=False)
    configured = tmp_path / "configured.db"
    config = tmp_path / "llmspell.toml"
    config.write_text(f'[storage]\npath = "{configured}"\n')
    ok(runner.invoke(cli, ["--config", str(config), "state", "set", "k", "1"]))
    with open_store(path=configured) as store:
        assert store.fetch_one("SELECT value FROM state WHERE key = 'k'")[0] == "1"

    from_env = tmp_path / "env.db"
    monkeypatch.setenv("LLMSPELL_STORAGE__PATH", str(from_env))
    ok(runner.invoke(cli, ["state", "set", "e", "2"]))
    assert from_env.exists()


def test_session_list_show_delete(runner: CliRunner, db_path: Path) -> None:
    with open_store(path=db_path) as store:
        sessions = SessionStore(store)
        chat = sessions.create("chat", tags=["demo"])
        sessions.create("other")
        ArtifactStore(store).store(chat["id"], "text", "notes.md", "hello")
        ConversationStore(store).append(chat["id"], "helper", [{"role": "user", "content": "hi"}])

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["session", *args, "--db", str(db_path)])

    listed = ok(run("list", "--tag", "demo"))
    assert chat["id"] in listed and "other" not in listed
    assert len(json.loads(ok(run("list", "--json")))) == 2
    shown = ok(run("show", "chat"))
    assert "conversations: helper" in shown and "notes.md" in shown
    assert json.loads(ok(run("show", chat["id"], "--json")))["artifacts"][0]["name"] == "notes.md"
    assert ok(run("delete", "chat")) == f"deleted session {chat['id']}\n"
    gone = run("show", "chat")
    assert isinstance(gone.exception, NotFoundError)


def test_runs_list_show_cancel(runner: CliRunner, db_path: Path) -> None:
    with open_store(path=db_path) as store:
        runs = RunStore(store)
        done = runs.create("script", script="hello.lua")["id"]
        runs.start(done)
        runs.finish(done, "completed", input_tokens=3, output_tokens=4, cost_usd=0.01)
        waiting = runs.create("workflow")["id"]
        active = runs.create("exec")["id"]
        runs.start(active)
        CheckpointStore(store).save_checkpoint(active, "h", {"completed": ["a"]})

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["runs", *args, "--db", str(db_path)])

    listed = ok(run("list"))
    assert [line.split()[0] for line in listed.splitlines()] == [active, waiting, done]
    only_done = json.loads(ok(run("list", "--status", "completed", "--json")))
    assert [r["id"] for r in only_done] == [done]
    shown = ok(run("show", active))
    assert "status: running" in shown and "checkpoints: 1" in shown
    assert json.loads(ok(run("show", done, "--json")))["output_tokens"] == 4
    assert ok(run("cancel", waiting)) == f"cancelled {waiting}\n"
    assert ok(run("cancel", active)) == f"asked {active} to stop\n"
    finished = run("cancel", done)
    assert isinstance(finished.exception, StateError)
    assert "already ended (completed)" in str(finished.exception)
    assert isinstance(run("show", "run_nope").exception, NotFoundError)


def test_audit_list_and_verify(runner: CliRunner, db_path: Path) -> None:
    with open_store(path=db_path) as store:
        log = AuditLog(store)
        log.append(
            "tool.execute",
            actor="tool:calc",
            outcome="success",
            run_id="run_1",
            arguments={"input": "1+1"},
            duration_ms=2,
        )
        log.append("agent.execute", actor="agent:w", outcome="error", run_id="run_2")

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["audit", *args, "--db", str(db_path)])

    listed = ok(run("list", "--run", "run_1"))
    assert "tool:calc" in listed and "agent:w" not in listed
    assert ok(run("verify")) == "ok: 2 audit rows verified\n"
    with open_store(path=db_path) as store:
        store.execute("UPDATE audit_log SET outcome = 'success' WHERE seq = 2")
    broken = run("verify")
    assert broken.exit_code == 1
    assert "audit log broken: audit row 2 was modified" in broken.output


def test_errors_reach_the_user_without_a_traceback(db_path: Path, tmp_path: Path) -> None:
    open_store(path=db_path).close()
    with open_store(path=db_path) as store:
        store.execute("INSERT INTO schema_version VALUES (99, 0)")
    done = subprocess.run(
        [sys.executable, "-m", "llmspell.cli.main", "state", "show", "--db", str(db_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1
    assert "database schema version 99 is newer than this llmspell supports" in done.stderr
    assert "Traceback" not in done.stderr
