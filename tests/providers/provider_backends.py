"""Backends the conformance suite runs against.

Each backend turns a ``ScriptedProvider`` (what the test wants answered) into the provider under
test. To add a backend, add a ``Backend`` to ``BACKENDS``; set ``scripted=False`` for one that
cannot follow a script (a real model): it then runs only the structural tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from llmspell.providers.base import Provider
    from llmspell.providers.mock_server import MockServer
    from llmspell.providers.scripted import ScriptedProvider


@dataclass
class Backend:
    name: str
    make: Callable[[ScriptedProvider, pytest.FixtureRequest], Provider]
    scripted: bool = True
    model: str = "gpt-4o-mini"


@dataclass
class Subject:
    """What a conformance test gets: the provider under test and the script it answers from."""

    backend: Backend
    provider: Provider
    script: ScriptedProvider

    @property
    def model(self) -> str:
        return self.backend.model


def _scripted(script: ScriptedProvider, request: pytest.FixtureRequest) -> Provider:
    return script


def _served(script: ScriptedProvider, request: pytest.FixtureRequest) -> MockServer:
    server: MockServer = request.getfixturevalue("mock_server")
    server.provider = script
    return server


def _native(script: ScriptedProvider, request: pytest.FixtureRequest) -> Provider:
    from llmspell.providers.openai_compat import OpenAICompatProvider

    server = _served(script, request)
    return OpenAICompatProvider(server.base_url, api_key="test-key", max_retries=0, timeout=10)


def _litellm(script: ScriptedProvider, request: pytest.FixtureRequest) -> Provider:
    from llmspell.providers.litellm_backend import LiteLLMProvider

    server = _served(script, request)
    return LiteLLMProvider(
        "openai", api_key="test-key", api_base=server.base_url, max_retries=0, timeout=10
    )


BACKENDS: list[Backend] = [
    Backend("scripted", _scripted),
    Backend("native", _native),
    Backend("litellm", _litellm),
]
SLOW_BACKENDS = {"litellm"}
"""litellm takes seconds to import: these run under the ``slow`` marker."""
