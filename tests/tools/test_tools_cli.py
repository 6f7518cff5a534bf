from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmspell.cli.main import cli


@pytest.fixture
def config(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello.txt").write_text("hi there")
    path = tmp_path / "llmspell.toml"
    path.write_text(
        f"""
[security]
file_read_roots = ["{data}"]
file_write_roots = ["{data}"]

[tools.permissions]
uuid-generator = "deny"
hash-calculator = "ask"
"""
    )
    return path


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "tool", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_and_category(config: Path) -> None:
    code, out, _ = invoke(config, "list")
    assert code == 0
    lines = {line.split()[0]: line.split() for line in out.splitlines()}
    assert lines["file-operations"][1:] == ["filesystem", "privileged", "builtin"]
    assert "calculator" in lines
    code, out, _ = invoke(config, "list", "--category", "network")
    assert [line.split()[0] for line in out.splitlines()] == ["http-requester", "web-searcher"]
    code, out, _ = invoke(config, "list", "--json")
    assert {t["name"] for t in json.loads(out)} >= {"process-executor", "calculator"}


def test_info(config: Path) -> None:
    code, out, _ = invoke(config, "info", "file_operations")
    assert code == 0
    assert out.startswith("file-operations 1.0.0 (filesystem, privileged)")
    assert "operation: read | write" in out
    code, _, err = invoke(config, "info", "nope")
    assert code == 1
    assert "ToolNotFound: tool 'nope' not found" in err


def test_invoke_under_the_policy(config: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, _ = invoke(
        config,
        "invoke",
        "file-operations",
        "--params",
        json.dumps({"operation": "read", "path": str(data / "hello.txt")}),
    )
    assert (code, out) == (0, "hi there\n")
    code, _, err = invoke(
        config,
        "invoke",
        "file-operations",
        "--params",
        json.dumps({"operation": "read", "path": "/etc/passwd"}),
    )
    assert code == 5
    assert "PermissionDenied: file-operations: read '/etc/passwd' is outside the read roots" in err
    code, _, err = invoke(config, "invoke", "uuid-generator", "--params", "{}")
    assert code == 5
    assert 'uuid-generator = "deny"' in err
    code, _, err = invoke(config, "invoke", "hash-calculator", "--params", '{"input": "x"}')
    assert code == 5
    assert "not approved" in err


def test_invoke_modes(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "data" / "new.txt"
    params = json.dumps({"operation": "write", "path": str(target), "input": "x"})
    code, out, _ = invoke(
        config, "invoke", "file-operations", "--mode", "dry-run", "--json", "--params", params
    )
    assert code == 0
    assert json.loads(out)["result"]["executed"] is False
    assert not target.exists()
    code, _, err = invoke(
        config, "invoke", "file-operations", "--mode", "strict", "--params", params
    )
    assert code == 5
    assert "strict mode" in err
    code, out, _ = invoke(config, "invoke", "file-operations", "--params", params)
    assert code == 0
    assert target.read_text() == "x"


def test_invoke_bad_input(config: Path) -> None:
    code, _, err = invoke(config, "invoke", "calculator", "--params", "{oops")
    assert code == 2
    assert "--params" in err
    code, _, err = invoke(config, "invoke", "calculator", "--params", '{"operation": 5}')
    assert code == 1
    assert "ValidationError: calculator: parameter 'operation'" in err
