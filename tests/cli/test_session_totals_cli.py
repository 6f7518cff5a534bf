"""``llmspell run --session``: the session's totals carry across runs, in ``get_metrics()``,
``--output json`` and ``llmspell session show``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CONFIG = """
default_provider = "test"

[storage]
path = {db}

[providers.test]
provider_type = "scripted"
options = {{ replies = [ {{ text = "fact", usage = {{ input_tokens = 6, output_tokens = 2 }} }} ] }}
"""
SCRIPT = """
local agent = Agent.create{name = "writer", model = "test/scripted"}
agent:execute("a fact, please")
local session = agent:get_metrics().session
print(session and session.total_tokens or "no session")
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "llmspell.toml"
    config.write_text(CONFIG.format(db=json.dumps(str(tmp_path / "cli.db"))))
    script = tmp_path / "fact.lua"
    script.write_text(SCRIPT)
    return config, script


def llmspell(config: Path, *words: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI on the database of ``config`` (not the suite's shared one)."""
    env = {k: v for k, v in os.environ.items() if k != "LLMSPELL_STORAGE__PATH"}
    command = [sys.executable, "-m", "llmspell.cli.main", "--config", str(config), *words]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc


def run_json(config: Path, *words: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(llmspell(config, "--output", "json", *words).stdout)
    assert data["status"] == "ok", data["error"]
    return data


def test_two_runs_in_a_session_and_one_outside(files: tuple[Path, Path]) -> None:
    config, script = files
    first = run_json(config, "run", "--session", "s1", str(script))
    assert first["output"] == "8\n"
    second = run_json(config, "run", "--session", "s1", str(script))
    assert second["output"] == "16\n"
    assert second["metrics"]["input_tokens"] == 6
    assert second["metrics"]["session"] == {
        "input_tokens": 12,
        "output_tokens": 4,
        "total_tokens": 16,
        "cost_usd": 0.0,
    }
    code = "local a = Agent.create{name = 'w', model = 'test/scripted'} a:execute('x')"
    executed = run_json(config, "exec", "--session", "s1", code)
    assert executed["metrics"]["session"]["total_tokens"] == 24

    alone = run_json(config, "run", str(script))
    assert alone["output"] == "no session\n"
    assert "session" not in alone["metrics"]

    shown = json.loads(llmspell(config, "session", "show", "s1", "--json").stdout)
    assert shown["totals"] == {
        "runs": 3,
        "input_tokens": 18,
        "output_tokens": 6,
        "total_tokens": 24,
        "cost_usd": 0.0,
    }
    text = llmspell(config, "session", "show", "s1").stdout
    assert "runs: 3  tokens: 18 in, 6 out  cost: $0.0000" in text
    assert (config.parent / "cli.db").is_file()
