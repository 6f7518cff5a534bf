from __future__ import annotations

import json
from typing import Any

import pytest
from tool_testkit import Recorded, Route, serve

from llmspell.core.errors import PermissionDenied, ToolError, ValidationError
from llmspell.tools.base import ToolContext
from llmspell.tools.builtin.http_requester import HttpRequesterTool
from llmspell.tools.permissions import PermissionPolicy
from llmspell.tools.registry import ToolRegistry

JSON = {"content-type": "application/json"}


@pytest.fixture
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(HttpRequesterTool(timeout=2, max_bytes=1000))
    return reg


def local(**kwargs: Any) -> ToolContext:
    mode = kwargs.pop("mode", "auto")
    return PermissionPolicy(network_allow=["*"], allow_private_network=True, **kwargs).context(
        mode=mode
    )


def echo(request: Recorded) -> tuple[int, dict[str, str], bytes]:
    body = {
        "method": request.method,
        "path": request.path,
        "body": request.body.decode(),
        "auth": request.headers.get("authorization"),
    }
    return 200, JSON, json.dumps(body).encode()


async def test_get_json_and_post_body(registry: ToolRegistry) -> None:
    with serve({"/echo": echo}) as server:
        got = await registry.execute(
            "http-requester", {"input": server.base_url + "/echo"}, local()
        )
        assert got.result["status"] == 200
        assert got.result["body"]["method"] == "GET"
        assert str(got.text).startswith("{")
        posted = await registry.execute(
            "http_requester",
            {
                "url": server.base_url + "/echo",
                "method": "post",
                "body": {"a": 1},
                "query": {"q": "x"},
                "headers": {"authorization": "Bearer t"},
            },
            local(),
        )
        assert posted.result["body"] == {
            "method": "POST",
            "path": "/echo?q=x",
            "body": '{"a":1}',
            "auth": "Bearer t",
        }


async def test_http_error_status_is_reported(registry: ToolRegistry) -> None:
    with serve({}) as server:
        result = await registry.execute(
            "http-requester", {"input": server.base_url + "/x"}, local()
        )
    assert result.success is False
    assert result.result["status"] == 404
    assert result.message == "HTTP 404 Not Found"


async def test_loopback_denied_without_allow_private_network(registry: ToolRegistry) -> None:
    with serve({"/echo": echo}) as server:
        ctx = PermissionPolicy(network_allow=["*"]).context()
        with pytest.raises(
            PermissionDenied, match=r"^http-requester: request to '127.0.0.1'.*loopback"
        ):
            await registry.execute("http-requester", {"input": server.base_url + "/echo"}, ctx)
        assert server.requests == []


async def test_redirects_are_followed_and_checked_on_every_hop(registry: ToolRegistry) -> None:
    with serve({"/echo": echo}) as target:
        routes = {
            "/go": (302, {"location": target.base_url + "/echo"}, b""),
            "/meta": (301, {"location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/loop": (302, {"location": "/loop"}, b""),
        }
        with serve(routes) as server:
            ctx = local(network_deny=[])
            result = await registry.execute(
                "http-requester",
                {"input": server.base_url + "/go", "headers": {"authorization": "Bearer t"}},
                ctx,
            )
            assert result.result["body"]["path"] == "/echo"
            assert result.result["redirects"] == [target.base_url + "/echo"]
            assert result.result["body"]["auth"] is None
            only_host = PermissionPolicy(network_allow=["127.0.0.1"]).context()
            with pytest.raises(PermissionDenied, match=r"169.254.169.254"):
                await registry.execute(
                    "http-requester", {"input": server.base_url + "/meta"}, only_host
                )
            with pytest.raises(ToolError, match="more than 2 redirects"):
                await registry.execute(
                    "http-requester", {"input": server.base_url + "/loop", "max_redirects": 2}, ctx
                )
            unfollowed = await registry.execute(
                "http-requester", {"input": server.base_url + "/go", "follow_redirects": False}, ctx
            )
            assert unfollowed.result["status"] == 302


async def test_post_redirected_with_303_becomes_get(registry: ToolRegistry) -> None:
    with serve({"/echo": echo, "/form": (303, {"location": "/echo"}, b"")}) as server:
        result = await registry.execute(
            "http-requester",
            {"input": server.base_url + "/form", "method": "POST", "data": "a=1"},
            local(),
        )
    assert result.result["body"]["method"] == "GET"
    assert result.result["body"]["body"] == ""


async def test_limits(registry: ToolRegistry) -> None:
    def slow(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        import time

        time.sleep(0.5)
        return 200, {}, b"late"

    routes: dict[str, Route] = {"/big": (200, {}, b"x" * 2000), "/slow": slow}
    with serve(routes) as server:
        with pytest.raises(ToolError, match="has 2000 bytes; the limit is 1000"):
            await registry.execute("http-requester", {"input": server.base_url + "/big"}, local())
        with pytest.raises(ToolError, match="limit is 10"):
            await registry.execute(
                "http-requester", {"input": server.base_url + "/big", "max_size": 10}, local()
            )
        with pytest.raises(ToolError, match=r"timed out after 0.1 s"):
            await registry.execute(
                "http-requester", {"input": server.base_url + "/slow", "timeout": 0.1}, local()
            )


async def test_validation(registry: ToolRegistry) -> None:
    with pytest.raises(ValidationError, match="parameter 'input': is required"):
        await registry.execute("http-requester", {}, local())
    with pytest.raises(ValidationError, match="parameter 'method'"):
        await registry.execute("http-requester", {"input": "http://x", "method": "BREW"}, local())
    with pytest.raises(ValidationError, match="parameter 'data': give either"):
        await registry.execute(
            "http-requester", {"input": "http://x", "body": {}, "data": "x"}, local()
        )


async def test_dry_run_sends_nothing(registry: ToolRegistry) -> None:
    with serve({"/echo": echo}) as server:
        ctx = local(mode="dry-run")
        result = await registry.execute("http-requester", {"input": server.base_url + "/echo"}, ctx)
        assert result.result["executed"] is False
        assert server.requests == []
        assert ctx.permissions.dry_run_log[0]["tool"] == "http-requester"
