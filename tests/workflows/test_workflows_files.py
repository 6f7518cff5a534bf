"""Workflow files: TOML, YAML and JSON share one schema; errors name the file, step and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmspell.core.errors import ValidationError
from llmspell.workflows import PythonServices, load_workflow_file

EXAMPLES = Path(__file__).resolve().parents[2] / "scripts" / "examples" / "workflows"

TOML = """
name = "same"
type = "sequential"
error_strategy = { retry = { max_attempts = 2, backoff_ms = 1 } }

[[steps]]
name = "shout"
tool = "upper"
input = { text = "{{input.text}}" }

[[steps]]
name = "copy"
tool = "echo"
input = { value = "{{steps.shout.output.result}}", n = 3 }
"""

YAML = """
name: same
type: sequential
error_strategy: {retry: {max_attempts: 2, backoff_ms: 1}}
steps:
  - name: shout
    tool: upper
    input: {text: "{{input.text}}"}
  - name: copy
    tool: echo
    input: {value: "{{steps.shout.output.result}}", n: 3}
"""

JSON = """
{"name": "same", "type": "sequential",
 "error_strategy": {"retry": {"max_attempts": 2, "backoff_ms": 1}},
 "steps": [
   {"name": "shout", "tool": "upper", "input": {"text": "{{input.text}}"}},
   {"name": "copy", "tool": "echo", "input": {"value": "{{steps.shout.output.result}}", "n": 3}}
 ]}
"""


@pytest.mark.parametrize(("suffix", "text"), [(".toml", TOML), (".yaml", YAML), (".json", JSON)])
async def test_three_formats_one_schema(
    tmp_path: Path, suffix: str, text: str, services: PythonServices
) -> None:
    path = tmp_path / f"flow{suffix}"
    path.write_text(text)
    wf = load_workflow_file(path)
    assert wf.describe() == load_workflow_file(_write(tmp_path, ".json", JSON)).describe()
    result = await wf.execute({"text": "hi"}, services)
    assert result["final"]["result"] == {"value": "HI", "n": 3}


@pytest.mark.parametrize(
    ("suffix", "text", "message"),
    [
        (
            ".toml",
            "name = 'w'\n[[steps]]\nname = 's'\ntool = 'echo'\ntimout = 3\n",
            "flow.toml: workflow 'w', step 's': unknown field 'timout'",
        ),
        (
            ".yaml",
            "name: w\nsteps:\n  - name: s\n    type: tool\n",
            "flow.yaml: workflow 'w', step 's': field 'tool' is required",
        ),
        (
            ".json",
            '{"name": "w", "steps": [{"name": "s", "tool": "t", "input": "{{steps.x.output}}"}]}',
            "flow.json: workflow 'w', step 's': unknown reference",
        ),
        (".json", '{"name": "w",', "flow.json: invalid JSON at line 1"),
        (".yaml", "name: [w", "flow.yaml: invalid YAML"),
        (".toml", "name = ", "flow.toml: invalid TOML"),
        (".yaml", "- just\n- a list\n", "flow.yaml: the top level must be a table"),
        (".txt", "name = 'w'", "unknown workflow file type '.txt'"),
    ],
)
def test_errors_name_the_file(tmp_path: Path, suffix: str, text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_workflow_file(_write(tmp_path, suffix, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        load_workflow_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("text_pipeline.toml", "sequential"),
        ("checksums.yaml", "parallel"),
        ("route.json", "conditional"),
        ("shout_each.yaml", "loop"),
    ],
)
def test_examples_load(name: str, kind: str) -> None:
    assert load_workflow_file(EXAMPLES / name).type == kind


def _write(folder: Path, suffix: str, text: str) -> Path:
    path = folder / f"flow{suffix}"
    path.write_text(text)
    return path
