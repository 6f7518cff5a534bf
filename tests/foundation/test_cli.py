"""The CLI as a user runs it: a subprocess, exit codes, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def llmspell(*args: str, cwd: Path | None = None, input: str | None = None, env=None):
    environment = {**os.environ, **(env or {})}
    environment.pop("LLMSPELL_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "llmspell.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=input,
        timeout=60,
        env=environment,
    )


@pytest.fixture
def script(tmp_path):
    def make(source: str, name: str = "s.lua") -> str:
        path = tmp_path / name
        path.write_text(source)
        return str(path)

    return make


def test_run_prints_output(script, tmp_path):
    proc = llmspell(
        "run",
        script('print("hi", ARGS[1], ARGS.k, ARGS.flag)'),
        "--",
        "a",
        "--k",
        "v",
        "--flag",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hi\ta\tv\ttrue\n"


def test_run_json_output_is_one_object(script, tmp_path):
    proc = llmspell("--output", "json", "run", script('print("x") return {n = 1}'), cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert set(data) == {
        "status",
        "error_kind",
        "error",
        "value",
        "output",
        "duration_ms",
        "execution_id",
        "metrics",
    }
    assert data["status"] == "ok"
    assert data["value"] == {"n": 1}
    assert data["output"] == "x\n"
    assert data["execution_id"].startswith("run_")


@pytest.mark.parametrize(
    ("source", "code", "kind"),
    [
        ("error('boom')", 1, "runtime"),
        ("return 1 +", 1, "syntax"),
        ("while true do end", 3, "timeout"),
        ("local t = {} while true do t[#t+1] = {} end", 4, "memory"),
        ("setmetatable({}, {__gc = print})", 5, "sandbox_violation"),
        ("while true do print('xxxxxxxxxxxxxxxx') end", 5, "output_limit"),
        ("os.exit(9)", 9, "runtime"),
    ],
)
def test_exit_codes(script, tmp_path, source, code, kind):
    cfg = tmp_path / "llmspell.toml"
    cfg.write_text("[runtime]\ncpu_seconds = 0.3\nmemory_mb = 16\noutput_bytes = 2000\n")
    proc = llmspell("--output", "json", "run", script(source), cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert json.loads(proc.stdout)["error_kind"] == kind


def test_error_message_has_script_and_line(script, tmp_path):
    path = script("local a = 1\nerror('bad thing')", name="broken.lua")
    proc = llmspell("run", path, cwd=tmp_path)
    assert proc.returncode == 1
    assert "broken.lua:2: bad thing" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_global_options_before_subcommand(script, tmp_path):
    proc = llmspell(
        "--timeout",
        "0.3",
        "--memory-limit",
        "16",
        "--output",
        "json",
        "exec",
        "sleep(5)",
        cwd=tmp_path,
    )
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["error_kind"] == "timeout"


def test_exec_prints_value(tmp_path):
    proc = llmspell("exec", "return 6 * 7", cwd=tmp_path)
    assert proc.stdout.strip() == "42"


def test_validate(script, tmp_path):
    assert llmspell("validate", script("return 1"), cwd=tmp_path).returncode == 0
    bad = llmspell("validate", script("return 1 +", name="bad.lua"), cwd=tmp_path)
    assert bad.returncode == 1
    assert "bad.lua:1:" in bad.stderr


def test_config_init_show_validate(tmp_path):
    assert llmspell("config", "init", cwd=tmp_path).returncode == 0
    assert (tmp_path / "llmspell.toml").is_file()
    assert llmspell("config", "init", cwd=tmp_path).returncode == 2
    assert llmspell("config", "validate", cwd=tmp_path).returncode == 0
    shown = llmspell("config", "show", "--format", "json", cwd=tmp_path)
    assert json.loads(shown.stdout)["config"]["runtime"]["memory_mb"] == 64.0


def test_bad_config_exits_2_naming_key(tmp_path, script):
    (tmp_path / "llmspell.toml").write_text("[runtime]\nbogus = 1\n")
    proc = llmspell("run", script("return 1"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "runtime.bogus" in proc.stderr


def test_usage_error_exits_2(tmp_path):
    assert llmspell("run", cwd=tmp_path).returncode == 2


def test_version(tmp_path):
    proc = llmspell("--version", cwd=tmp_path)
    assert "llmspell" in proc.stdout
    assert "Lua 5.4" in llmspell("version", cwd=tmp_path).stdout


def test_repl_evaluates_and_keeps_state(tmp_path):
    proc = llmspell(
        "repl", cwd=tmp_path, input="x = 40\nx + 2\nfor i = 1, 2 do\nprint(i)\nend\n.exit\n"
    )
    assert proc.returncode == 0
    assert "42" in proc.stdout
    assert "1\n2" in proc.stdout


def test_ctrl_c_cancels_cleanly(script, tmp_path):
    import signal
    import time

    path = script('print("started") io.stdout:write("") while true do pcall(sleep, 0.01) end')
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmspell.cli.main", "--output", "json", "run", path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert json.loads(out)["error_kind"] == "cancelled"
