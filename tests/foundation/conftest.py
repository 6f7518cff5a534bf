from __future__ import annotations

from typing import Any

import pytest

from llmspell import Host


@pytest.fixture
def host() -> Host:
    return Host({"storage": {"backend": "memory"}})


@pytest.fixture
def run(host: Host) -> Any:
    """Run Lua source through the Host; keyword arguments go to ``Host.run``."""

    def _run(source: str, **kwargs: Any) -> Any:
        limits = kwargs.pop("limits", None)
        target = Host({"storage": {"backend": "memory"}}, limits=limits) if limits else host
        return target.run(source, **kwargs)

    return _run
