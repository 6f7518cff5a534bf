"""Fixtures of the security suite (helpers live in security_kit.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from security_kit import MODES, make_host

from llmspell import Host


@pytest.fixture(autouse=True)
def _free_runtimes() -> Iterator[None]:
    """Free each test's Lua runtimes as soon as it ends, so the many small runtimes of one test
    process do not pile up until a later collection (see docs/security.md, on the lupa hazard)."""
    yield
    gc.collect()


@pytest.fixture(scope="module", params=MODES)
def mode_host(request: pytest.FixtureRequest) -> Iterator[Host]:
    """One host per isolation mode, shared by a module's tests."""
    yield make_host(request.param)
