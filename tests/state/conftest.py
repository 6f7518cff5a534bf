from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmspell.state.store import Store, open_store


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(memory=True) as opened:
        yield opened


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "llmspell.db"


@pytest.fixture
def file_store(db_path: Path) -> Iterator[Store]:
    with open_store(path=db_path) as opened:
        yield opened
