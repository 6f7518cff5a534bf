"""Hosts on a private database file for the State, Session, Artifact and run-record tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmspell import Host
from llmspell.core.config import load_config
from llmspell.core.result import RunResult
from llmspell.state.store import Store, open_store


def file_host(db: Path, **config: Any) -> Host:
    """A Host whose store is ``db`` (``environ={}``: the suite's storage variable is ignored)."""
    return Host(load_config({"storage": {"path": str(db)}, **config}, environ={}))


def ok(result: RunResult) -> Any:
    """The value of a run that must have succeeded."""
    assert result.status == "ok", result.error
    return result.value


def opened(db: Path) -> Store:
    return open_store(path=db)
