"""Fixtures shared by the benches (run with ``pytest benches --benchmark-only``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pairing import Pairer


@pytest.fixture
def paired(benchmark: Any) -> Pairer:
    """Times an llmspell measure and its floor alternately; see ``benches/pairing.py``."""
    return Pairer(benchmark)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop of the test's own, for benches that drive async code round by round."""
    running = asyncio.new_event_loop()
    yield running
    running.close()
