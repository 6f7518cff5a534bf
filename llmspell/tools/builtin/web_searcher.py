"""web-searcher: web search through a pluggable backend that needs an API key.

Backends: ``brave`` (``BRAVE_API_KEY``), ``tavily`` (``TAVILY_API_KEY``), ``serpapi``
(``SERPAPI_API_KEY``); more can be added with ``register_search_backend``. The backend is the
``backend`` parameter, else ``[tools.web-searcher] backend``, else the first one whose key is
set. Keys are read from the host environment (never shown to scripts) or from
``[tools.web-searcher] api_key`` / ``api_key_env``. Requests go through the network policy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from llmspell.core.errors import ToolError
from llmspell.tools.base import SecurityLevel, Tool, ToolContext, ToolResult
from llmspell.tools.builtin._common import param_error
from llmspell_utils.timeouts import OperationTimeout, with_timeout

NAME = "web-searcher"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_RESULTS = 5
MAX_RESULTS = 50
MAX_RESPONSE_BYTES = 5 * 1024 * 1024


@dataclass
class SearchRequest:
    """What a backend asks the HTTP client to send."""

    method: str
    url: str
    headers: dict[str, str]
    query: dict[str, Any] | None = None
    json: dict[str, Any] | None = None


class SearchBackend(Protocol):
    """A search API: how to ask it and how to read its answer."""

    name: str
    key_env: str
    base_url: str

    def request(self, base_url: str, query: str, count: int, api_key: str) -> SearchRequest: ...

    def parse(self, data: Any) -> list[dict[str, str]]: ...


class BraveBackend:
    name = "brave"
    key_env = "BRAVE_API_KEY"
    base_url = "https://api.search.brave.com/res/v1/web/search"

    def request(self, base_url: str, query: str, count: int, api_key: str) -> SearchRequest:
        return SearchRequest(
            "GET",
            base_url,
            {"accept": "application/json", "x-subscription-token": api_key},
            query={"q": query, "count": count},
        )

    def parse(self, data: Any) -> list[dict[str, str]]:
        items = data.get("web", {}).get("results", []) if isinstance(data, Mapping) else []
        return [_hit(i.get("title"), i.get("url"), i.get("description")) for i in items]


class TavilyBackend:
    name = "tavily"
    key_env = "TAVILY_API_KEY"
    base_url = "https://api.tavily.com/search"

    def request(self, base_url: str, query: str, count: int, api_key: str) -> SearchRequest:
        return SearchRequest(
            "POST",
            base_url,
            {"authorization": f"Bearer {api_key}"},
            json={"query": query, "max_results": count},
        )

    def parse(self, data: Any) -> list[dict[str, str]]:
        items = data.get("results", []) if isinstance(data, Mapping) else []
        return [_hit(i.get("title"), i.get("url"), i.get("content")) for i in items]


class SerpApiBackend:
    name = "serpapi"
    key_env = "SERPAPI_API_KEY"
    base_url = "https://serpapi.com/search.json"

    def request(self, base_url: str, query: str, count: int, api_key: str) -> SearchRequest:
        return SearchRequest(
            "GET",
            base_url,
            {"accept": "application/json"},
            query={"q": query, "num": count, "engine": "google", "api_key": api_key},
        )

    def parse(self, data: Any) -> list[dict[str, str]]:
        items = data.get("organic_results", []) if isinstance(data, Mapping) else []
        return [_hit(i.get("title"), i.get("link"), i.get("snippet")) for i in items]


SEARCH_BACKENDS: dict[str, SearchBackend] = {
    b.name: b for b in (BraveBackend(), TavilyBackend(), SerpApiBackend())
}


def register_search_backend(backend: SearchBackend) -> None:
    """Add (or replace) a backend, selectable by its ``name``."""
    SEARCH_BACKENDS[backend.name] = backend


def _hit(title: Any, url: Any, snippet: Any) -> dict[str, str]:
    return {"title": str(title or ""), "url": str(url or ""), "snippet": str(snippet or "")}


class WebSearcherTool(Tool):
    """Web search through a configured search API."""

    name: ClassVar[str] = NAME
    description: ClassVar[str] = (
        "Search the web and return result titles, URLs and snippets (needs a search API key)."
    )
    category: ClassVar[str] = "network"
    security_level: ClassVar[SecurityLevel] = "restricted"
    side_effects: ClassVar[bool] = True
    tags: ClassVar[tuple[str, ...]] = ("search", "web", "network")
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "input": {"type": "string", "minLength": 1, "description": "The search query"},
            "query": {"type": "string", "minLength": 1, "description": "Same as input"},
            "max_results": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
            "backend": {"type": "string", "description": "brave, tavily, serpapi, ..."},
        },
        "additionalProperties": False,
    }

    def __init__(
        self,
        *,
        backend: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        base_url: str | None = None,
        max_results: int = DEFAULT_MAX_RESULTS,
        timeout: float = DEFAULT_TIMEOUT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if backend is not None and backend not in SEARCH_BACKENDS:
            raise ValueError(f"unknown backend {backend!r} (known: {', '.join(SEARCH_BACKENDS)})")
        if api_key is not None and backend is None:
            raise ValueError("api_key needs backend: the API the key belongs to")
        self.backend = backend
        self.api_key = api_key
        self.api_key_env = api_key_env
        self.base_url = base_url
        self.max_results = int(max_results)
        self.timeout = float(timeout)
        self._environ = environ

    async def execute(self, params: dict[str, Any], ctx: ToolContext) -> ToolResult:
        query = params.get("input", params.get("query"))
        if not query:
            raise param_error(NAME, "input", "is required: the search query")
        backend, api_key = self._choose(params.get("backend"))
        count = min(params.get("max_results", self.max_results), MAX_RESULTS)
        request = backend.request(self.base_url or backend.base_url, query, count, api_key)
        try:
            data = await with_timeout(
                _send(request, ctx, self.timeout, backend.name),
                self.timeout,
                f"{NAME}: {backend.name} did not answer within {self.timeout} s",
            )
        except OperationTimeout as exc:
            raise ToolError(str(exc)) from None
        hits = [h for h in backend.parse(data) if h["url"]][:count]
        return ToolResult(
            result={"query": query, "backend": backend.name, "results": hits, "count": len(hits)},
            text="\n\n".join(f"{h['title']}\n{h['url']}\n{h['snippet']}" for h in hits),
        )

    def _choose(self, requested: str | None) -> tuple[SearchBackend, str]:
        environ = os.environ if self._environ is None else self._environ
        name = requested or self.backend
        if name is not None:
            backend = SEARCH_BACKENDS.get(name)
            if backend is None:
                known = ", ".join(sorted(SEARCH_BACKENDS))
                raise param_error(NAME, "backend", f"unknown backend {name!r} (known: {known})")
            key = self.api_key or environ.get(self.api_key_env or backend.key_env)
            if not key:
                raise ToolError(
                    f"{NAME}: the {name} backend needs an API key: set "
                    f"{self.api_key_env or backend.key_env} or [tools.web-searcher] api_key"
                )
            return backend, key
        for backend in SEARCH_BACKENDS.values():
            key = environ.get(backend.key_env)
            if key:
                return backend, key
        envs = ", ".join(b.key_env for b in SEARCH_BACKENDS.values())
        raise ToolError(
            f"{NAME}: no search backend is configured: set one of {envs}, or "
            "[tools.web-searcher] backend and api_key"
        )


async def _send(request: SearchRequest, ctx: ToolContext, timeout: float, backend: str) -> Any:
    import httpx

    await ctx.check_url(request.url)
    async with httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False) as c:
        try:
            response = await c.request(
                request.method,
                request.url,
                headers=request.headers,
                params=request.query,
                json=request.json,
            )
        except httpx.HTTPError as exc:
            raise ToolError(f"{NAME}: {backend} request failed: {type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise ToolError(f"{NAME}: {backend} rejected the API key (HTTP {response.status_code})")
    if response.status_code >= 400:
        raise ToolError(f"{NAME}: {backend} answered HTTP {response.status_code}")
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise ToolError(f"{NAME}: {backend} answered more than {MAX_RESPONSE_BYTES} bytes")
    try:
        return response.json()
    except ValueError:
        raise ToolError(f"{NAME}: {backend} did not answer JSON") from None
