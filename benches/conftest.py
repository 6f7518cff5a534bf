"""Fixtures shared by the benches (run with ``pytest benches --benchmark-only``)."""

from __future__ import annotations

from typing import Any

import pytest
from pairing import Pairer


@pytest.fixture
def paired(benchmark: Any) -> Pairer:
    """Times an llmspell measure and its floor alternately; see ``benches/pairing.py``."""
    return Pairer(benchmark)
