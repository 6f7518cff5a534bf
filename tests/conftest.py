from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

STORAGE_ENV = "LLMSPELL_STORAGE__PATH"

if TYPE_CHECKING:
    from llmspell.providers.mock_server import MockServer


@pytest.fixture
def mock_server() -> Iterator[MockServer]:
    """A running OpenAI-compatible server on 127.0.0.1 backed by a ``ScriptedProvider``.

    Queue answers with ``mock_server.script.push(...)`` (or assign another provider to
    ``mock_server.provider``); point clients at ``mock_server.base_url``. With nothing queued
    it echoes the last user message. Imported lazily: other tests check what a run imports.
    """
    from llmspell.providers.mock_server import MockServer
    from llmspell.providers.scripted import ScriptedProvider

    with MockServer(ScriptedProvider(echo=True)) as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def private_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database every test uses unless it says otherwise: a file of this test session.

    Every ``Host`` run writes a run record, so without this the suite would write into the
    user's own database. The variable overrides ``[storage] path`` of a config file or
    mapping: a test about configured paths removes it (``monkeypatch.delenv``) or builds its
    ``Config`` with ``load_config(..., environ={})``. Subprocesses inherit it.
    """
    path = str(tmp_path_factory.mktemp("storage") / "llmspell.db")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STORAGE_ENV, path)
        yield path
