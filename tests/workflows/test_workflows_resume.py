"""``llmspell workflow run`` records its runs; ``llmspell runs resume ID`` continues them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmspell.cli.main import cli
from llmspell.core.errors import NotFoundError, StateError
from llmspell.state.checkpoints import CheckpointStore
from llmspell.state.runs import RunStore
from llmspell.state.store import open_store

FLOW = """
name = "files"

[[steps]]
name = "first"
tool = "file-operations"
input = {{ operation = "append", path = "{log}", input = "first;" }}

[[steps]]
name = "second"
tool = "file-operations"
input = {{ operation = "read", path = "{needed}" }}

[[steps]]
name = "third"
tool = "file-operations"
input = {{ operation = "append", path = "{log}", input = "{{{{steps.second.output.text}}}};" }}
"""


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in [key for key in os.environ if key.startswith("LLMSPELL_")]:
        monkeypatch.delenv(name)
    found = {
        "db": tmp_path / "runs.db",
        "log": tmp_path / "log.txt",
        "needed": tmp_path / "needed.txt",
        "flow": tmp_path / "flow.toml",
        "config": tmp_path / "llmspell.toml",
    }
    found["flow"].write_text(FLOW.format(log=found["log"], needed=found["needed"]))
    found["config"].write_text(
        f'[storage]\npath = "{found["db"]}"\n'
        f'[security]\nfile_read_roots = ["{tmp_path}"]\nfile_write_roots = ["{tmp_path}"]\n'
    )
    return found


def invoke(paths: dict[str, Path], *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(paths["config"]), *args])


def test_a_failed_file_run_resumes_from_its_checkpoint(paths: dict[str, Path]) -> None:
    failed = invoke(paths, "workflow", "run", str(paths["flow"]), "--json")
    assert failed.exit_code == 1
    result = json.loads(failed.stdout)
    run_id = result["metadata"]["run_id"]
    assert result["metadata"]["failed_step"] == "second"
    assert paths["log"].read_text() == "first;"
    with open_store(path=paths["db"]) as store:
        record = RunStore(store).get(run_id)
        assert record is not None
        assert (record["kind"], record["status"]) == ("workflow", "failed")
        assert record["script"] == str(paths["flow"])
        assert CheckpointStore(store).load_definition(run_id) is not None

    paths["needed"].write_text("found")
    resumed = invoke(paths, "runs", "resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.splitlines()[0] == "Sequential workflow 'files' completed: 3/3 steps"
    assert paths["log"].read_text() == "first;found;"  # "first" did not run again
    with open_store(path=paths["db"]) as store:
        record = RunStore(store).get(run_id)
        assert record is not None and record["status"] == "completed"

    again = invoke(paths, "runs", "resume", run_id)
    assert again.exit_code == 0
    assert paths["log"].read_text() == "first;found;"


def test_text_output_of_a_failed_run_says_how_to_resume(paths: dict[str, Path]) -> None:
    failed = invoke(paths, "workflow", "run", str(paths["flow"]))
    assert failed.exit_code == 1
    assert "resume with: llmspell runs resume run_" in failed.stderr


def test_resume_refuses_unknown_runs_and_script_workflows(paths: dict[str, Path]) -> None:
    missing = invoke(paths, "runs", "resume", "run_nope")
    assert isinstance(missing.exception, NotFoundError)
    assert "run 'run_nope' not found" in str(missing.exception)

    with open_store(path=paths["db"]) as store:
        RunStore(store).create("workflow", run_id="run_x/from-script")
    scripted = invoke(paths, "runs", "resume", "run_x/from-script")
    assert isinstance(scripted.exception, StateError)
    assert "resume_from" in str(scripted.exception)
