"""Workflow files: TOML, YAML and JSON holding the table form of a workflow (one schema).

The format comes from the extension (``.toml``, ``.yaml``/``.yml``, ``.json``). Errors are
``ValidationError`` starting with the file's path. PyYAML is imported only for YAML files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from llmspell.core.errors import ValidationError
from llmspell.workflows.model import Workflow
from llmspell.workflows.tables import workflow_from_dict
from llmspell_utils.jsonutil import loads, loads_toml

FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def load_workflow_file(path: str | os.PathLike[str]) -> Workflow:
    """Read, parse and check the workflow in ``path``."""
    file = Path(path)
    return workflow_from_file_data(file, read_workflow_data(file))


def workflow_from_file_data(file: Path, data: dict[str, Any]) -> Workflow:
    """The checked workflow of ``data`` read from ``file`` (errors start with its path)."""
    try:
        return workflow_from_dict(data)
    except ValidationError as exc:
        raise ValidationError(f"{file}: {exc}") from None


def read_workflow_data(file: Path) -> dict[str, Any]:
    """The table form stored in ``file``, not yet checked."""
    kind = FORMATS.get(file.suffix.lower())
    if kind is None:
        raise ValidationError(
            f"{file}: unknown workflow file type '{file.suffix}' (use .toml, .yaml, .yml or .json)"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        data = _parse(text, kind)
    except ValueError as exc:
        raise ValidationError(f"{file}: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{file}: the top level must be a table of workflow fields")
    return data


def _parse(text: str, kind: str) -> Any:
    if kind == "toml":
        return loads_toml(text)
    if kind == "json":
        return loads(text)
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {exc}") from None
