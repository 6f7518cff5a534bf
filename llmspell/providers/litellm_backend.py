"""The litellm backend: every provider without an OpenAI-compatible API (Anthropic, Gemini,
Bedrock, Vertex, Mistral, Cohere...).

litellm is imported on the first call only (it costs seconds to import), with
``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first, because otherwise the import fetches the price
map over the network and blocks. litellm's own retries are off: retries, timeouts and the
circuit breaker are the same as for every other backend (``resilience``). Requests and
responses go through the OpenAI wire format, which litellm speaks on both ends.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from llmspell.core.errors import (
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    StreamInterrupted,
    ValidationError,
)
from llmspell.core.types import Capabilities, ChatRequest, ChatResponse, StreamEvent
from llmspell.providers import openai_wire as wire
from llmspell.providers.pricing import cost_usd
from llmspell.providers.resilience import CircuitBreaker, Resilience, RetryPolicy, breaker_for
from llmspell.providers.status import error_for_status, parse_retry_after


def import_litellm() -> Any:
    """litellm, imported without its network fetch of the price map.

    Called before a call's timeout starts: the first import takes seconds and blocks."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class LiteLLMProvider:
    """Calls ``litellm.acompletion`` with model ``"<litellm_provider>/<model>"``.

    ``api_base`` points litellm at another endpoint (e.g. the mock server with provider
    ``openai``).
    """

    def __init__(
        self,
        litellm_provider: str,
        default_model: str | None = None,
        *,
        api_key: str | None = None,
        api_base: str | None = None,
        timeout: float = 60,
        max_retries: int = 3,
        name: str | None = None,
        capabilities: Capabilities | None = None,
        breaker: CircuitBreaker | None = None,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.litellm_provider = litellm_provider
        self.default_model = default_model
        self.api_key = api_key
        self.api_base = api_base
        self.timeout = timeout
        self.options = dict(options or {})
        self._name = name or litellm_provider
        self._capabilities = capabilities or Capabilities(
            streaming=True, tools=True, models=[default_model] if default_model else []
        )
        endpoint = f"litellm:{litellm_provider}:{api_base or 'default'}"
        self._resilience = Resilience(
            self._name,
            RetryPolicy(max_retries, retry_base_delay, retry_max_delay, timeout),
            breaker if breaker is not None else breaker_for(endpoint),
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def _model(self, request: ChatRequest) -> str:
        model = request.model or self.default_model
        if not model:
            raise ValidationError(
                f"no model given for provider '{self._name}': pass one in the request or set "
                f"default_model in [providers.{self._name}]"
            )
        return model

    def _kwargs(self, request: ChatRequest, model: str, stream: bool) -> dict[str, Any]:
        body = wire.request_body(request, f"{self.litellm_provider}/{model}", stream=stream)
        body.update(self.options)
        body["timeout"] = self.timeout
        body["num_retries"] = 0
        if self.api_key:
            body["api_key"] = self.api_key
        if self.api_base:
            body["api_base"] = self.api_base
        return body

    def _cost(self, model: str, usage: Any) -> float | None:
        if usage is None:
            return None
        return cost_usd(model, usage.input_tokens, usage.output_tokens, self.litellm_provider)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        model = self._model(request)
        kwargs = self._kwargs(request, model, stream=False)
        import_litellm()
        return await self._resilience.call(lambda: self._complete_once(kwargs, model))

    async def _complete_once(self, kwargs: dict[str, Any], model: str) -> ChatResponse:
        litellm = import_litellm()
        try:
            raw = await litellm.acompletion(**kwargs)
        except Exception as exc:
            raise self._map_error(exc, model, started=False) from None
        result = wire.response_from_body(raw.model_dump(), self._name)
        result.model = model
        result.cost_usd = self._cost(model, result.usage)
        return result

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        model = self._model(request)
        kwargs = self._kwargs(request, model, stream=True)
        import_litellm()
        return self._resilience.stream(lambda: self._stream_once(kwargs, model))

    async def _stream_once(self, kwargs: dict[str, Any], model: str) -> AsyncIterator[StreamEvent]:
        litellm = import_litellm()
        decoder = wire.StreamDecoder()
        started = False
        try:
            chunks = await litellm.acompletion(**kwargs)
            async for chunk in chunks:
                for event in decoder.feed(chunk.model_dump()):
                    started = True
                    yield event
        except Exception as exc:
            raise self._map_error(exc, model, started=started) from None
        finish = decoder.finish(self._cost(model, decoder.usage))
        yield finish

    def _map_error(self, exc: Exception, model: str, *, started: bool) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        cls = type(exc).__name__
        where = f"provider '{self._name}' (litellm {self.litellm_provider})"
        status = getattr(exc, "status_code", None)
        message = str(getattr(exc, "message", "") or exc)
        if cls == "Timeout" or "Timeout" in cls:
            return ProviderTimeout(f"{where} timed out: {message}")
        if started:
            return StreamInterrupted(f"stream from {where} was cut off midway: {message}")
        if cls == "APIConnectionError":
            return ProviderUnavailable(f"cannot connect to {where}: {message}")
        if isinstance(status, int) and status >= 400:
            headers = getattr(getattr(exc, "response", None), "headers", None) or {}
            return error_for_status(
                status,
                message,
                provider=self._name,
                model=model,
                retry_after=parse_retry_after(headers.get("retry-after")),
            )
        return ProviderError(f"{where} failed: {cls}: {message}")

    async def aclose(self) -> None:
        return None
