"""The native backend for OpenAI-compatible chat-completions servers (httpx + SSE).

It serves OpenAI itself and every server that speaks the same API (Ollama, vLLM, llama.cpp,
LM Studio, Groq, OpenRouter, Together, DeepSeek, xAI, the local model, the mock server).
Measured on the development machine, litellm costs 4–5 s and ~150 MiB to import and about 1 ms
of CPU per streamed chunk, against 20–40 µs for httpx; hence a native path for this API.

httpx is imported when a provider is constructed, never at module import.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import (
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    StreamInterrupted,
    ValidationError,
)
from llmspell.core.types import (
    Capabilities,
    ChatRequest,
    ChatResponse,
    StreamEvent,
    StreamFinish,
    TextDelta,
    ToolCallDelta,
)
from llmspell.providers import openai_wire as wire
from llmspell.providers.pricing import cost_usd
from llmspell.providers.resilience import CircuitBreaker, Resilience, RetryPolicy, breaker_for
from llmspell.providers.status import error_for_status, parse_retry_after

if TYPE_CHECKING:
    import httpx

_UNSET: Any = object()


class OpenAICompatProvider:
    """Chat completions against ``base_url`` (e.g. ``https://api.openai.com/v1``).

    ``timeout`` bounds each call (and each read of a stream); ``max_retries`` retries
    retryable failures. ``price_provider`` is the litellm provider name used to price calls
    (default: this provider's preset, if any); ``free`` reports a cost of 0 (local servers).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        default_model: str | None = None,
        timeout: float = 60,
        max_retries: int = 3,
        name: str = "openai",
        capabilities: Capabilities | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        breaker: CircuitBreaker | None = None,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        price_provider: str | None = _UNSET,
        free: bool = False,
    ) -> None:
        import httpx

        if not base_url.startswith(("http://", "https://")):
            raise ValidationError(f"base_url must start with http:// or https://, got {base_url!r}")
        self._httpx = httpx
        self.base_url = base_url.rstrip("/")
        self.default_model = default_model
        self.timeout = timeout
        self._name = name
        self._capabilities = capabilities or Capabilities(
            streaming=True, tools=True, models=[default_model] if default_model else []
        )
        self._headers = {"Accept": "application/json", **(headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        if price_provider is _UNSET:
            from llmspell.providers.presets import find_preset

            preset = find_preset(name)
            price_provider = preset.price_prefix if preset else None
        self._price_provider: str | None = price_provider
        self._free = free
        self._resilience = Resilience(
            name,
            RetryPolicy(max_retries, retry_base_delay, retry_max_delay, timeout),
            breaker if breaker is not None else breaker_for(self.base_url),
        )
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self._resilience.breaker

    def _http(self) -> httpx.AsyncClient:
        """The client of the running loop (a client's connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            httpx = self._httpx
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                verify=_tls_context(self.base_url),
            )
            self._client_loop = loop
        return self._client

    def _model(self, request: ChatRequest) -> str:
        model = request.model or self.default_model
        if not model:
            raise ValidationError(
                f"no model given for provider '{self._name}': pass one in the request or set "
                f"default_model in [providers.{self._name}]"
            )
        return model

    def _cost(self, model: str, finish_model: str, usage: Any) -> float | None:
        if usage is None:
            return None
        if self._free:
            return 0.0
        if self._price_provider is None:
            return None
        for candidate in (model, finish_model):
            if candidate:
                cost = cost_usd(
                    candidate, usage.input_tokens, usage.output_tokens, self._price_provider
                )
                if cost is not None:
                    return cost
        return None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        model = self._model(request)
        body = wire.request_body(request, model, stream=False)
        return await self._resilience.call(lambda: self._complete_once(body, model))

    async def _complete_once(self, body: dict[str, Any], model: str) -> ChatResponse:
        httpx = self._httpx
        try:
            response = await self._http().post("/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, started=False, streaming=False) from None
        if response.status_code >= 400:
            raise self._status_error(response, model)
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(
                f"provider '{self._name}' sent a response that is not JSON"
            ) from None
        result = wire.response_from_body(data, self._name)
        if not result.model:
            result.model = model
        result.cost_usd = self._cost(model, result.model, result.usage)
        return result

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        model = self._model(request)
        body = wire.request_body(request, model, stream=True)
        return self._resilience.stream(lambda: self._stream_once(body, model))

    async def _stream_once(self, body: dict[str, Any], model: str) -> AsyncIterator[StreamEvent]:
        from httpx_sse import EventSource

        httpx = self._httpx
        started = False
        try:
            async with self._http().stream(
                "POST", "/chat/completions", json=body, headers={"Accept": "text/event-stream"}
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._status_error(response, model)
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    await response.aread()
                    for event in self._events_from_json(response, model):
                        yield event
                    return
                decoder = wire.StreamDecoder()
                done = False
                async for sse in EventSource(response).aiter_sse():
                    data = sse.data
                    if data == "[DONE]":
                        done = True
                        break
                    if not data:
                        continue
                    chunk = self._parse_chunk(data)
                    for event in decoder.feed(chunk):
                        started = True
                        yield event
                if not done and not decoder.finished:
                    raise StreamInterrupted(
                        f"stream from provider '{self._name}' ended before the answer was complete"
                    )
                usage = decoder.usage
                yield decoder.finish(self._cost(model, decoder.model, usage))
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, started=started) from None

    def _events_from_json(self, response: httpx.Response, model: str) -> list[StreamEvent]:
        """A server that ignored ``stream``: its whole answer as events."""
        try:
            result = wire.response_from_body(response.json(), self._name)
        except ValueError:
            raise ProviderError(
                f"provider '{self._name}' sent a response that is not JSON"
            ) from None
        events: list[StreamEvent] = []
        if result.text:
            events.append(TextDelta(result.text))
        for index, call in enumerate(result.tool_calls):
            events.append(ToolCallDelta(index, call.id, call.name, call.raw_arguments))
        events.append(
            StreamFinish(
                finish_reason=result.finish_reason,
                usage=result.usage,
                tool_calls=tuple(result.tool_calls),
                model=result.model or model,
                cost_usd=self._cost(model, result.model, result.usage),
            )
        )
        return events

    def _parse_chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise StreamInterrupted(
                f"provider '{self._name}' sent a stream chunk that is not JSON: {data[:80]!r}"
            ) from None
        if not isinstance(chunk, dict):
            raise StreamInterrupted(
                f"provider '{self._name}' sent a stream chunk that is not an object"
            )
        if "error" in chunk:
            detail = wire.error_message(chunk) or "unknown error"
            raise ProviderError(f"provider '{self._name}' reported an error mid-stream: {detail}")
        return chunk

    def _status_error(self, response: httpx.Response, model: str) -> ProviderError:
        try:
            detail = wire.error_message(response.json())
        except ValueError:
            detail = response.text.strip()[:200] or None
        return error_for_status(
            response.status_code,
            detail,
            provider=self._name,
            model=model,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    def _transport_error(
        self, exc: Exception, *, started: bool, streaming: bool = True
    ) -> ProviderError:
        httpx = self._httpx
        where = f"provider '{self._name}' at {self.base_url}"
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return ProviderUnavailable(f"cannot connect to {where}: {exc or 'connection refused'}")
        if isinstance(exc, httpx.TimeoutException):
            return ProviderTimeout(f"{where} sent nothing for {self.timeout:g} s (read timeout)")
        if streaming and (started or isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)):
            return StreamInterrupted(f"connection to {where} was cut off midway: {exc}")
        return ProviderUnavailable(f"request to {where} failed: {exc}")

    async def list_models(self) -> list[str]:
        """Model ids the server offers (``GET /models``)."""
        httpx = self._httpx
        try:
            response = await self._http().get("/models")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, started=False, streaming=False) from None
        if response.status_code >= 400:
            raise self._status_error(response, "")
        data = response.json().get("data") or []
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]

    async def aclose(self) -> None:
        client, self._client = self._client, None
        loop, self._client_loop = self._client_loop, None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()


def _tls_context(base_url: str) -> Any:
    """TLS settings for a client of ``base_url``.

    httpx's default loads certifi's CA bundle into a new SSL context: ~18 MiB of RSS measured,
    even for a plain-HTTP local server. Plain HTTP needs no context at all, and HTTPS uses the
    system's trust store (~1.6 MiB).
    """
    if not base_url.lower().startswith("https:"):
        return False
    import ssl

    return ssl.create_default_context()
