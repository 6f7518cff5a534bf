"""``llmspell workflow run | validate`` with the built-in tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmspell.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "scripts" / "examples" / "workflows"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user configuration or database leaks into these runs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("LLMSPELL_CONFIG", raising=False)
    monkeypatch.delenv("LLMSPELL_STORAGE__PATH", raising=False)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_prints_summary_steps_and_final_output() -> None:
    code, out, err = invoke(
        "workflow", "run", str(EXAMPLES / "route.json"), "--input", '{"expression": "2 + 2 * 3"}'
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Conditional workflow 'route' completed: 2/2 steps, branch 'compute'"
    assert lines[1].split()[:2] == ["ok", "evaluate"]
    assert lines[-1] == "2 + 2 * 3 = 8"


def test_run_json_output_and_progress_on_stderr() -> None:
    code, out, err = invoke(
        "workflow",
        "run",
        str(EXAMPLES / "checksums.yaml"),
        "--input",
        '{"text": "abc"}',
        "--json",
        "--progress",
    )
    assert code == 0
    result = json.loads(out)
    assert result["metadata"]["workflow_type"] == "parallel"
    assert result["outputs"]["md5"]["result"]["hash"] == "900150983cd24fb0d6963f7d28e17f72"
    assert "checksums:   0%" in err and "0/3" in err


def test_a_failing_step_exits_with_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n[[steps]]\nname = "calc"\ntool = "calculator"\n'
        'input = { operation = "evaluate", input = "1 +" }\n'
    )
    code, out, _ = invoke("workflow", "run", str(path))
    assert code == 1
    assert out.startswith("Sequential workflow 'bad' failed at step 'calc'")
    assert "FAILED calc" in out


def test_bad_input_and_bad_file() -> None:
    code, _, err = invoke("workflow", "run", str(EXAMPLES / "route.json"), "--input", "{")
    assert code == 2 and "--input" in err
    Path("broken.yaml").write_text("name: b\nsteps:\n  - name: s\n")
    code, _, err = invoke("workflow", "run", "broken.yaml")
    assert code == 1
    assert "ValidationError: broken.yaml: workflow 'b', step 's': field 'type' is missing" in err


def test_validate() -> None:
    code, out, _ = invoke("workflow", "validate", str(EXAMPLES / "text_pipeline.toml"))
    assert code == 0
    assert out.endswith("ok (sequential workflow 'text-pipeline', 3 steps)\n")
    Path("unknown.json").write_text(
        '{"name": "u", "steps": [{"name": "s", "tool": "no-such-tool"}]}'
    )
    code, _, err = invoke("workflow", "validate", "unknown.json")
    assert code == 1
    assert "workflow 'u', step 's': tool 'no-such-tool' not found" in err


def test_state_references_read_the_global_scope(tmp_path: Path) -> None:
    from llmspell.state.state import StateStore
    from llmspell.state.store import open_store

    with open_store() as store:
        StateStore(store).save("global", "greeting", "hello from state")
    Path("s.yaml").write_text(
        "name: s\nsteps:\n  - name: t\n    tool: text-manipulator\n"
        "    input: {operation: uppercase, input: '{{state.greeting}}'}\n"
    )
    code, out, err = invoke("workflow", "run", "s.yaml")
    assert code == 0, err
    assert out.splitlines()[-1] == "HELLO FROM STATE"


def test_agent_steps_are_refused_clearly() -> None:
    Path("a.json").write_text('{"name": "a", "steps": [{"name": "w", "agent": "openai/gpt-4o"}]}')
    code, out, _ = invoke("workflow", "run", "a.json")
    assert code == 1
    assert "agent 'openai/gpt-4o': agent steps cannot run here yet" in out
