"""http-requester: one HTTP request under the network policy.

Redirects are followed here, one hop at a time, so that every URL (the first and each
``Location``) passes the host allow/deny lists and the private-address check after DNS
resolution. Responses are read in chunks up to a size limit; the whole request, redirects
included, is bounded by a timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from llmspell.core.errors import ToolError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import param_error
from llmspell_utils.jsonutil import loads
from llmspell_utils.timeouts import OperationTimeout, with_timeout

if TYPE_CHECKING:
    import httpx

NAME = "http-requester"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "llmspell-http-requester/1.0"
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")


class HttpRequesterTool(Tool):
    """HTTP requests to hosts the network policy allows."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Send an HTTP request (GET, POST, ...) with optional headers and a JSON or text body; "
        "returns the status, headers and body."
    )
    category: ClassVar[str] = "network"
    security_level: ClassVar[SecurityLevel] = "restricted"
    side_effects: ClassVar[bool] = True
    tags: ClassVar[tuple[str, ...]] = ("http", "network", "api")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "input": {"type": "string", "minLength": 1, "description": "The URL"},
            "url": {"type": "string", "minLength": 1, "description": "Same as input"},
            "method": {"type": "string", "enum": [*METHODS, *(m.lower() for m in METHODS)]},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "query": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]},
            },
            "body": {"description": "JSON body (any JSON value)"},
            "data": {"type": "string", "description": "Raw text body"},
            "timeout": {"type": "number", "exclusiveMinimum": 0},
            "max_size": {"type": "integer", "minimum": 1},
            "follow_redirects": {"type": "boolean", "default": True},
            "max_redirects": {"type": "integer", "minimum": 0, "maximum": 20},
        },
        "additionalProperties": False,
    }

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timeout = float(timeout)
        self.max_bytes = int(max_bytes)
        self.max_redirects = int(max_redirects)
        self.user_agent = user_agent

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        url = params.get("input", params.get("url"))
        if not url:
            raise param_error(NAME, "input", "is required: the URL to request")
        if "body" in params and "data" in params:
            raise param_error(NAME, "data", "give either 'body' (JSON) or 'data' (text), not both")
        timeout = min(float(params.get("timeout", self.timeout)), self.timeout)
        try:
            return await with_timeout(
                self._request(url, params, ctx, timeout),
                timeout,
                f"{NAME}: request to '{url}' timed out after {timeout} s",
            )
        except OperationTimeout as exc:
            raise ToolError(str(exc)) from None

    async def _request(
        self, url: str, params: dict[str, Any], ctx: ToolContext, timeout: float
    ) -> ToolResult:
        import httpx

        method = str(params.get("method", "GET")).upper()
        given = {k.lower(): v for k, v in params.get("headers", {}).items()}
        headers = {"user-agent": self.user_agent, **given}
        body_kwargs: dict[str, Any] = {}
        if "body" in params:
            body_kwargs["json"] = params["body"]
        elif "data" in params:
            body_kwargs["content"] = params["data"].encode()
        limit = min(params.get("max_size", self.max_bytes), self.max_bytes)
        follow = params.get("follow_redirects", True)
        max_redirects = min(params.get("max_redirects", self.max_redirects), 20)
        redirects: list[str] = []
        query = params.get("query")
        async with httpx.AsyncClient(
            follow_redirects=False, timeout=timeout, trust_env=False
        ) as client:
            while True:
                await ctx.check_url(url)
                try:
                    request = client.build_request(
                        method, url, headers=headers, params=query, **body_kwargs
                    )
                    response = await client.send(request, stream=True)
                except httpx.InvalidURL as exc:
                    raise param_error(NAME, "input", f"invalid URL '{url}': {exc}") from None
                except httpx.HTTPError as exc:
                    raise ToolError(f"{NAME}: request to '{url}' failed: {exc}") from None
                try:
                    location = response.headers.get("location")
                    if follow and response.status_code in REDIRECT_STATUSES and location:
                        if len(redirects) >= max_redirects:
                            raise ToolError(
                                f"{NAME}: more than {max_redirects} redirects "
                                f"(last to '{location}')"
                            )
                        next_url = str(response.url.join(location))
                        redirects.append(next_url)
                        method, body_kwargs = _redirected(response.status_code, method, body_kwargs)
                        headers = _strip_credentials(headers, url, next_url)
                        url, query = next_url, None
                        continue
                    body = await _read_limited(response, limit, url)
                finally:
                    await response.aclose()
                return _result(response, body, redirects)


def _redirected(status: int, method: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """303 (and 301/302 after a POST, as browsers do) turn into a GET without a body."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", {}
    return method, body


def _strip_credentials(headers: dict[str, str], old: str, new: str) -> dict[str, str]:
    """Credentials are not sent to another host than the one they were given for."""
    before, after = urlsplit(old), urlsplit(new)
    if (before.hostname, before.port, before.scheme) == (after.hostname, after.port, after.scheme):
        return headers
    return {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}


async def _read_limited(response: httpx.Response, limit: int, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ToolError(
            f"{NAME}: the response from '{url}' has {declared} bytes; the limit is {limit}"
        )
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            raise ToolError(f"{NAME}: the response from '{url}' exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _result(response: httpx.Response, body: bytes, redirects: list[str]) -> ToolResult:
    text = body.decode(response.encoding or "utf-8", errors="replace")
    content_type = response.headers.get("content-type", "")
    parsed: Any = text
    if "json" in content_type and text:
        try:
            parsed = loads(text)
        except ValueError:
            parsed = text
    status = response.status_code
    return ToolResult(
        result={
            "status": status,
            "status_code": status,
            "url": str(response.url),
            "headers": dict(response.headers),
            "body": parsed,
            "redirects": redirects,
        },
        text=text,
        success=status < 400,
        message=None if status < 400 else f"HTTP {status} {response.reason_phrase}",
    )
