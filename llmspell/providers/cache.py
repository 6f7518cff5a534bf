"""A response cache for chat requests, kept in the llmspell store with a time to live.

The key is the SHA-256 of the provider name and the whole request (model, messages, tools and
every sampling parameter) as canonical JSON; only the ``stream`` flag is left out, so a
streamed and a plain request share their answer. A reply that was streamed is stored with its
events and replays as the same stream; a reply from ``complete`` replays as a short stream of
its text, tool calls and finish. A cached reply reports its usage but costs nothing
(``cost_usd`` is 0). Failed calls and cut-off streams are never stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ValidationError
from llmspell.core.types import (
    ChatRequest,
    ChatResponse,
    StreamAccumulator,
    StreamEvent,
    StreamFinish,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from llmspell_utils import jsonutil

if TYPE_CHECKING:
    from llmspell.core.types import Capabilities
    from llmspell.events import EventBus
    from llmspell.providers.base import Provider
    from llmspell.state.store import Store

DEFAULT_TTL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class CachedReply:
    """A stored answer: the response, and the stream events when it was streamed."""

    response: ChatResponse
    events: tuple[StreamEvent, ...] | None
    created_at: float

    def replay(self) -> list[StreamEvent]:
        """The events a stream of this reply yields (recorded ones when there are some)."""
        if self.events is not None:
            return list(self.events)
        events: list[StreamEvent] = []
        if self.response.text:
            events.append(TextDelta(self.response.text))
        for index, call in enumerate(self.response.tool_calls):
            events.append(ToolCallDelta(index, call.id, call.name, call.raw_arguments))
        events.append(
            StreamFinish(
                finish_reason=self.response.finish_reason,
                usage=self.response.usage,
                tool_calls=tuple(self.response.tool_calls),
                model=self.response.model,
                cost_usd=self.response.cost_usd,
            )
        )
        return events


def cache_key(request: ChatRequest, provider: str) -> str:
    """The cache key of ``request`` sent to ``provider``."""
    body = request.model_dump(mode="json", exclude={"stream"})
    text = jsonutil.dumps({"provider": provider, "request": body})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResponseCache:
    """Replies by key in the store's ``response_cache`` table. ``ttl`` is in seconds
    (``None``: entries never expire); expired entries are ignored and removed."""

    def __init__(
        self,
        store: Store,
        *,
        ttl: float | None = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl is not None and (isinstance(ttl, bool) or not ttl > 0):
            raise ValidationError(f"cache ttl must be a positive number of seconds, got {ttl!r}")
        self._store = store
        self.ttl = ttl
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> CachedReply | None:
        """The live entry for ``key``, or ``None`` (counted as a hit or a miss)."""
        row = self._store.fetch_one(
            "SELECT response, events, created_at, expires_at FROM response_cache WHERE key = ?",
            (key,),
        )
        if row is not None and row["expires_at"] is not None and row["expires_at"] <= self._clock():
            self._store.execute("DELETE FROM response_cache WHERE key = ?", (key,))
            row = None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        response = ChatResponse.model_validate(jsonutil.loads(row["response"]))
        events = None if row["events"] is None else _decode_events(jsonutil.loads(row["events"]))
        return CachedReply(response, events, row["created_at"])

    def put(
        self,
        key: str,
        response: ChatResponse,
        events: list[StreamEvent] | None = None,
    ) -> None:
        """Store (or replace) the reply for ``key``; also drops expired entries."""
        now = self._clock()
        expires = None if self.ttl is None else now + self.ttl
        stored = response.model_dump(mode="json", exclude={"raw"})
        with self._store.transaction() as conn:
            conn.execute(
                "DELETE FROM response_cache WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (now,),
            )
            conn.execute(
                "INSERT OR REPLACE INTO response_cache "
                "(key, provider, model, response, events, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    response.provider,
                    response.model,
                    jsonutil.dumps(stored),
                    None if events is None else jsonutil.dumps(_encode_events(events)),
                    now,
                    expires,
                ),
            )

    def delete(self, key: str) -> bool:
        return self._store.execute("DELETE FROM response_cache WHERE key = ?", (key,)) > 0

    def clear(self) -> int:
        """Remove every entry; return how many there were."""
        return self._store.execute("DELETE FROM response_cache")

    def stats(self) -> dict[str, Any]:
        """``{entries, hits, misses, ttl}``; hits and misses count this object's lookups."""
        row = self._store.fetch_one("SELECT COUNT(*) FROM response_cache")
        return {
            "entries": int(row[0]) if row is not None else 0,
            "hits": self.hits,
            "misses": self.misses,
            "ttl": self.ttl,
        }


class CachingProvider:
    """A provider that answers from ``cache`` when it can and fills it otherwise. Publishes
    ``provider.cache.hit`` / ``provider.cache.miss`` when given ``events``."""

    def __init__(
        self, provider: Provider, cache: ResponseCache, *, events: EventBus | None = None
    ) -> None:
        self.provider = provider
        self.cache = cache
        self.events = events

    @property
    def name(self) -> str:
        return self.provider.name

    @property
    def capabilities(self) -> Capabilities:
        return self.provider.capabilities

    def _lookup(self, request: ChatRequest) -> tuple[str, CachedReply | None]:
        key = cache_key(request, self.provider.name)
        found = self.cache.get(key)
        if self.events is not None:
            self.events.publish(
                "provider.cache.hit" if found else "provider.cache.miss",
                {"provider": self.provider.name, "model": request.model, "key": key},
            )
        return key, found

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key, found = self._lookup(request)
        if found is not None:
            return found.response.model_copy(update={"cost_usd": 0.0})
        response = await self.provider.complete(request)
        self.cache.put(key, response)
        return response

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        key, found = self._lookup(request)
        if found is not None:
            for event in found.replay():
                yield _free(event)
            return
        recorded: list[StreamEvent] = []
        events = self.provider.stream(request)
        try:
            async for event in events:
                recorded.append(event)
                yield event
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()
        if recorded and isinstance(recorded[-1], StreamFinish):
            acc = StreamAccumulator(provider=self.provider.name, model=request.model)
            for event in recorded:
                acc.add(event)
            self.cache.put(key, acc.response(), recorded)

    async def aclose(self) -> None:
        await self.provider.aclose()


def _free(event: StreamEvent) -> StreamEvent:
    """A replayed finish event costs nothing."""
    return dataclasses.replace(event, cost_usd=0.0) if isinstance(event, StreamFinish) else event


def _encode_events(events: list[StreamEvent]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, TextDelta):
            out.append({"text": event.text})
        elif isinstance(event, ToolCallDelta):
            out.append(
                {
                    "tool_call": {
                        "index": event.index,
                        "id": event.id,
                        "name": event.name,
                        "arguments": event.arguments,
                    }
                }
            )
        else:
            out.append(
                {
                    "finish": {
                        "finish_reason": event.finish_reason,
                        "usage": None if event.usage is None else event.usage.model_dump(),
                        "tool_calls": [c.model_dump(mode="json") for c in event.tool_calls],
                        "model": event.model,
                        "cost_usd": event.cost_usd,
                    }
                }
            )
    return out


def _decode_events(items: list[dict[str, Any]]) -> tuple[StreamEvent, ...]:
    events: list[StreamEvent] = []
    for item in items:
        if "text" in item:
            events.append(TextDelta(item["text"]))
        elif "tool_call" in item:
            events.append(ToolCallDelta(**item["tool_call"]))
        else:
            finish = item["finish"]
            events.append(
                StreamFinish(
                    finish_reason=finish["finish_reason"],
                    usage=None if finish["usage"] is None else Usage(**finish["usage"]),
                    tool_calls=tuple(ToolCall(**c) for c in finish["tool_calls"]),
                    model=finish["model"],
                    cost_usd=finish["cost_usd"],
                )
            )
    return tuple(events)
