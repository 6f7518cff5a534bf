"""``ToolResult.text``: what a tool says, or the result's text form, worked out when first read."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell import Host
from llmspell.tools.base import ToolResult, text_of
from llmspell.tools.callable_tool import CallableTool
from llmspell_utils import jsonutil


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The values JSON-encoded by llmspell_utils.jsonutil.dumps during the test."""
    seen: list[Any] = []
    real = jsonutil.dumps

    def counting(value: Any, **kwargs: Any) -> str:
        seen.append(value)
        return real(value, **kwargs)

    monkeypatch.setattr(jsonutil, "dumps", counting)
    return seen


def test_text_defaults_to_the_result_text_form_when_read(encoded: list[Any]) -> None:
    result = ToolResult(result={"b": 1, "a": [1, 2]})
    assert encoded == []
    assert result.text == '{"a":[1,2],"b":1}'
    assert result.text == '{"a":[1,2],"b":1}'
    assert len(encoded) == 1  # worked out once


def test_text_a_tool_gives_is_kept() -> None:
    result = ToolResult(result={"a": 1}, text="one a")
    assert result.text == "one a" and result.to_dict()["text"] == "one a"
    result.text = "changed"
    assert result.text == "changed"
    assert ToolResult(result=2, text="x") == ToolResult(result=2, text="x")


@pytest.mark.parametrize(
    ("value", "text"), [("plain", "plain"), (None, ""), (42, "42"), ([1, "a"], '[1,"a"]')]
)
def test_text_of(value: Any, text: str) -> None:
    assert text_of(value) == text


@pytest.mark.parametrize("isolation", ["in-process", "process"])
def test_a_result_too_big_for_the_run_is_refused_before_its_text_is_made(
    encoded: list[Any], isolation: str
) -> None:
    async def big(params: dict[str, Any], ctx: Any) -> Any:
        return ["y" * (8 * 1024 * 1024)]

    host = Host({"storage": {"backend": "memory"}}, limits={"memory_mb": 4}, isolation=isolation)
    host.services.tools.register(CallableTool("big", "a big result", None, big))
    result = host.run('local ok, err = pcall(Tool.execute, "big") return tostring(err)')
    assert result.error_kind == "memory"
    assert all(
        not (isinstance(v, list) and v and isinstance(v[0], str) and len(v[0]) > 1e6)
        for v in encoded
    )
