from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

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
