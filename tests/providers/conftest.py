"""Fixtures of the provider tests; the backend list lives in ``provider_backends``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from provider_backends import BACKENDS, SLOW_BACKENDS, Backend, Subject

from llmspell.providers.resilience import reset_breakers


@pytest.fixture(
    params=[
        pytest.param(b, id=b.name, marks=[pytest.mark.slow] if b.name in SLOW_BACKENDS else [])
        for b in BACKENDS
    ]
)
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    from llmspell.providers.scripted import ScriptedProvider

    backend: Backend = request.param
    script = ScriptedProvider()
    provider = backend.make(script, request)
    yield Subject(backend, provider, script)
    await provider.aclose()


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()
