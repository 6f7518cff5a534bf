from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from llmspell.core.errors import ToolError
from llmspell.workflows import PythonServices


class Recorder:
    """Tools for tests, counting how often each one ran."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def tools(self) -> dict[str, Any]:
        async def sleep(params: dict[str, Any]) -> dict[str, Any]:
            self.calls["sleep"] += 1
            await asyncio.sleep(params.get("seconds", 0.01))
            return {"success": True, "result": params.get("value"), "text": "slept"}

        def echo(params: dict[str, Any]) -> Any:
            self.calls["echo"] += 1
            return params

        def upper(params: dict[str, Any]) -> str:
            self.calls["upper"] += 1
            return str(params["text"]).upper()

        def fail(params: dict[str, Any]) -> Any:
            self.calls["fail"] += 1
            raise ToolError(params.get("message", "boom"))

        return {"sleep": sleep, "echo": echo, "upper": upper, "fail": fail}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def services(recorder: Recorder) -> PythonServices:
    return PythonServices(tools=recorder.tools())
