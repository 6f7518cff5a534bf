from __future__ import annotations

import json
from typing import Any

import pytest
from tool_testkit import Recorded, serve

from llmspell.core.errors import PermissionDenied, ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin.web_searcher import WebSearcherTool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry

BRAVE_ANSWER = {
    "web": {
        "results": [
            {"title": "Lua", "url": "https://www.lua.org/", "description": "The language"},
            {"title": "No URL", "url": "", "description": "dropped"},
            {"title": "Manual", "url": "https://www.lua.org/manual/5.4/", "description": "Ref"},
        ]
    }
}


def local(**kwargs: Any) -> ToolContext:
    mode = kwargs.pop("mode", "auto")
    return PermissionPolicy(network_allow=["*"], allow_private_network=True, **kwargs).context(
        mode=mode
    )


def registry_with(tool: WebSearcherTool) -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(tool)
    return registry


async def test_brave_backend_against_a_local_api() -> None:
    def brave(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        assert request.headers["x-subscription-token"] == "k-123"
        return 200, {"content-type": "application/json"}, json.dumps(BRAVE_ANSWER).encode()

    with serve({"/search": brave}) as server:
        tool = WebSearcherTool(
            base_url=server.base_url + "/search", environ={"BRAVE_API_KEY": "k-123"}
        )
        result = await registry_with(tool).execute(
            "web_searcher", {"input": "lua language", "max_results": 5}, local()
        )
        assert server.requests[0].path.startswith("/search?q=lua+language&count=5")
    assert result.result["backend"] == "brave"
    assert [hit["title"] for hit in result.result["results"]] == ["Lua", "Manual"]
    assert "https://www.lua.org/" in str(result.text)


async def test_tavily_backend_posts_json() -> None:
    answer = {"results": [{"title": "T", "url": "https://t.example/", "content": "c"}]}

    def tavily(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        assert json.loads(request.body) == {"query": "q", "max_results": 2}
        assert request.headers["authorization"] == "Bearer tv"
        return 200, {"content-type": "application/json"}, json.dumps(answer).encode()

    with serve({"/s": tavily}) as server:
        tool = WebSearcherTool(backend="tavily", api_key="tv", base_url=server.base_url + "/s")
        result = await registry_with(tool).execute(
            "web-searcher", {"query": "q", "max_results": 2}, local()
        )
    assert result.result["results"] == [{"title": "T", "url": "https://t.example/", "snippet": "c"}]


async def test_clear_error_without_a_key() -> None:
    registry = registry_with(WebSearcherTool(environ={}))
    with pytest.raises(
        ToolError, match="no search backend is configured: set one of BRAVE_API_KEY"
    ):
        await registry.execute("web-searcher", {"input": "x"}, local())
    with pytest.raises(
        ToolError, match="the serpapi backend needs an API key: set SERPAPI_API_KEY"
    ):
        await registry.execute("web-searcher", {"input": "x", "backend": "serpapi"}, local())


async def test_rejected_key_and_validation() -> None:
    with serve({"/s": (401, {}, b"no")}) as server:
        tool = WebSearcherTool(base_url=server.base_url + "/s", environ={"BRAVE_API_KEY": "bad"})
        registry = registry_with(tool)
        with pytest.raises(ToolError, match="brave rejected the API key"):
            await registry.execute("web-searcher", {"input": "x"}, local())
    with pytest.raises(ValidationError, match="parameter 'input': is required"):
        await registry.execute("web-searcher", {}, local())
    with pytest.raises(ValidationError, match="parameter 'backend': unknown backend 'bing'"):
        await registry.execute("web-searcher", {"input": "x", "backend": "bing"}, local())
    with pytest.raises(ValidationError, match="parameter 'max_results'"):
        await registry.execute("web-searcher", {"input": "x", "max_results": 500}, local())
    with pytest.raises(ValueError, match="unknown backend"):
        WebSearcherTool(backend="bing")


async def test_network_policy_and_dry_run() -> None:
    registry = registry_with(WebSearcherTool(environ={"BRAVE_API_KEY": "k"}))
    with pytest.raises(PermissionDenied, match=r"api.search.brave.com.*network_allow"):
        await registry.execute("web-searcher", {"input": "x"}, PermissionPolicy().context())
    ctx = PermissionPolicy().context(mode="dry-run")
    result = await registry.execute("web-searcher", {"input": "x"}, ctx)
    assert result.result["executed"] is False
