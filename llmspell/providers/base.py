"""The one protocol every LLM backend implements.

A provider answers a ``ChatRequest`` either at once (``complete``) or as a stream of small
events (``stream``): ``TextDelta`` and ``ToolCallDelta`` as they arrive, then exactly one
``StreamFinish`` carrying the finish reason, usage and the assembled tool calls. Errors are
the ``ProviderError`` subclasses of ``llmspell.core.errors``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from llmspell.core.types import Capabilities, ChatRequest, ChatResponse, StreamEvent


@runtime_checkable
class Provider(Protocol):
    @property
    def name(self) -> str:
        """The provider's name (a configured name, a preset name, or a backend name)."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """The whole answer. An empty ``request.model`` means the provider's default model."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Events as the model produces them; the last one is a ``StreamFinish``."""
        ...

    async def aclose(self) -> None:
        """Release connections; the provider may be used again afterwards (it reconnects)."""
        ...


async def collect(events: AsyncIterator[StreamEvent], provider: str = "") -> ChatResponse:
    """Consume a stream into the ``ChatResponse`` that ``complete`` would have returned."""
    from llmspell.core.types import StreamAccumulator

    acc = StreamAccumulator(provider=provider)
    async for event in events:
        acc.add(event)
    return acc.response()
