"""A deterministic provider for tests, examples and users' own script tests.

It answers from a queue of scripted steps. A step is a reply (``text``, or explicit stream
``chunks``), tool calls, or an injected failure, with optional delays; ``times`` repeats a
step (``{error="rate_limited", times=2}`` then ``"ok"`` is "429 twice then success"); ``match``
makes a step answer only requests whose last user message contains that text. When the queue
is empty, echo mode answers with the last user message; otherwise the call fails.

The same steps can be given from Python or from configuration::

    [providers.test]
    provider_type = "scripted"
    options = { echo = true, replies = [
        "Hello!",
        { tool_calls = [{ name = "calculator", arguments = { input = "2+2" } }] },
    ] }

The provider is safe to share between threads (the mock server serves it from several).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from llmspell.core.errors import ConfigError, ProviderError, StreamInterrupted, ValidationError
from llmspell.core.types import (
    Capabilities,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    StreamEvent,
    StreamFinish,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    validation_error,
)
from llmspell.providers.status import ERROR_STATUS, error_for_status

ErrorKind = Literal[
    "auth",
    "forbidden",
    "model_not_found",
    "timeout",
    "rate_limited",
    "bad_request",
    "server_error",
    "unavailable",
    "stream_interrupted",
]
_WORDS = re.compile(r"\S+\s*|\s+")


class ScriptedToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptStep(BaseModel):
    """One scripted answer. Exactly what a ``replies`` entry in configuration may hold."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    chunks: list[str] | None = None
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    error: ErrorKind | None = None
    message: str | None = None
    retry_after: float | None = Field(default=None, ge=0)
    times: int = Field(default=1, ge=1)
    delay: float = Field(default=0.0, ge=0)
    chunk_delay: float = Field(default=0.0, ge=0)
    interrupt_after: int | None = Field(default=None, ge=0)
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    match: str | None = None
    echo: bool = False
    model: str | None = None

    def pieces(self, request: ChatRequest) -> list[str]:
        """The text of the answer as stream pieces (words, unless ``chunks`` are given)."""
        if self.chunks is not None:
            return list(self.chunks)
        text = _last_user_text(request) if self.echo else (self.text or "")
        return _WORDS.findall(text)


def parse_step(value: str | Mapping[str, Any] | ScriptStep, where: str = "reply") -> ScriptStep:
    """A step from a string (a text reply) or a table; ``ValidationError`` names the field."""
    if isinstance(value, ScriptStep):
        return value
    if isinstance(value, str):
        return ScriptStep(text=value)
    try:
        return ScriptStep.model_validate(dict(value))
    except pydantic.ValidationError as exc:
        raise validation_error(exc, where) from None
    except TypeError:
        raise ValidationError(f"{where}: must be a string or a table") from None


def _last_user_text(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            return message.text
    return ""


def _estimate_tokens(text: str) -> int:
    return len(text.split())


class _Words(weakref.ref[ChatMessage]):
    """A message's word count, kept as a weak reference to the message."""

    __slots__ = ("count", "key")

    def __new__(
        cls, message: ChatMessage, callback: Callable[[_Words], None], count: int
    ) -> _Words:
        return super().__new__(cls, message, callback)

    def __init__(
        self, message: ChatMessage, callback: Callable[[_Words], None], count: int
    ) -> None:
        # ``weakref.ref.__init__`` would only check again the two arguments ``__new__`` took.
        self.key = id(message)
        self.count = count


class _PromptEstimate:
    """The words of a prompt, each message counted once and remembered while it lives, so a
    request late in a long conversation only counts the messages new since the previous one.
    Messages must not be changed once sent."""

    def __init__(self) -> None:
        self._seen: dict[int, _Words] = {}

    def tokens(self, messages: Sequence[ChatMessage]) -> int:
        seen = self._seen
        total = 0
        for message in messages:
            entry = seen.get(id(message))
            if entry is None:
                entry = _Words(message, self._drop, _estimate_tokens(message.text))
                seen[entry.key] = entry
            total += entry.count
        return total

    def _drop(self, entry: _Words) -> None:
        if self._seen.get(entry.key) is entry:
            del self._seen[entry.key]


class ScriptedProvider:
    """Answers requests from scripted steps; records every request in ``requests``."""

    def __init__(
        self,
        replies: Iterable[str | Mapping[str, Any] | ScriptStep] = (),
        *,
        echo: bool = False,
        name: str = "scripted",
        default_model: str = "scripted",
        capabilities: Capabilities | None = None,
    ) -> None:
        self._name = name
        self.default_model = default_model
        self.echo = echo
        self._capabilities = capabilities or Capabilities(
            streaming=True, tools=True, vision=True, models=[default_model]
        )
        self._lock = threading.Lock()
        self._queue: list[list[Any]] = []
        self.requests: list[ChatRequest] = []
        self._prompt_estimate = _PromptEstimate()
        self.push(*replies)

    @classmethod
    def from_options(
        cls, name: str, options: Mapping[str, Any], default_model: str | None = None
    ) -> ScriptedProvider:
        """Build from a ``[providers.<name>]`` table's ``options``: ``replies`` (list of
        steps), ``echo`` (bool), ``capabilities`` (table of ``Capabilities`` fields)."""
        where = f"providers.{name}.options"
        known = {"replies", "echo", "capabilities"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(known))})"
            )
        replies = options.get("replies", [])
        if not isinstance(replies, list):
            raise ConfigError(f"{where}.replies must be a list")
        echo = options.get("echo", not replies)
        if not isinstance(echo, bool):
            raise ConfigError(f"{where}.echo must be true or false")
        capabilities = None
        if "capabilities" in options:
            try:
                capabilities = Capabilities.model_validate(options["capabilities"])
            except pydantic.ValidationError as exc:
                raise ConfigError(str(validation_error(exc, f"{where}.capabilities"))) from None
        try:
            steps = [parse_step(r, f"{where}.replies[{i}]") for i, r in enumerate(replies)]
        except ValidationError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            steps,
            echo=echo,
            name=name,
            default_model=default_model or "scripted",
            capabilities=capabilities,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    # --- scripting ------------------------------------------------------------------------

    def push(self, *steps: str | Mapping[str, Any] | ScriptStep) -> ScriptedProvider:
        parsed = [parse_step(s) for s in steps]
        with self._lock:
            self._queue.extend([step, step.times] for step in parsed)
        return self

    def reply(self, text: str, **options: Any) -> ScriptedProvider:
        """Queue a text reply (options: any ``ScriptStep`` field, e.g. ``chunk_delay``)."""
        return self.push({"text": text, **options})

    def tool_call(
        self, name: str, arguments: Mapping[str, Any] | None = None, **options: Any
    ) -> ScriptedProvider:
        """Queue a reply asking for one tool call."""
        call = {"name": name, "arguments": dict(arguments or {})}
        return self.push({"tool_calls": [call], **options})

    def fail(
        self,
        kind: ErrorKind,
        *,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> ScriptedProvider:
        """Queue an injected failure, ``times`` calls in a row."""
        return self.push(
            {"error": kind, "times": times, "retry_after": retry_after, "message": message}
        )

    @property
    def remaining(self) -> int:
        """How many answers are still queued (repeats counted)."""
        with self._lock:
            return sum(count for _, count in self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def next_step(self, request: ChatRequest) -> ScriptStep:
        """Record ``request`` and take the step that answers it."""
        text = _last_user_text(request)
        with self._lock:
            self.requests.append(request)
            for index, entry in enumerate(self._queue):
                step: ScriptStep = entry[0]
                if step.match is not None and step.match not in text:
                    continue
                entry[1] -= 1
                if entry[1] == 0:
                    del self._queue[index]
                return step
            left = len(self._queue)
        if self.echo:
            return ScriptStep(echo=True)
        detail = f" ({left} queued step(s) did not match)" if left else ""
        raise ProviderError(f"scripted provider '{self._name}' has no reply left{detail}")

    # --- the Provider protocol ------------------------------------------------------------

    def _error(self, step: ScriptStep, request: ChatRequest) -> ProviderError:
        assert step.error is not None
        model = request.model or self.default_model
        if step.error == "stream_interrupted":
            return StreamInterrupted(step.message or f"scripted stream of '{self._name}' cut off")
        return error_for_status(
            ERROR_STATUS[step.error],
            step.message or "injected by the script",
            provider=self._name,
            model=model,
            retry_after=step.retry_after,
        )

    def _tool_calls(self, step: ScriptStep, request: ChatRequest) -> list[ToolCall]:
        offset = len(self.requests)
        return [
            ToolCall(
                id=call.id or f"call_{offset}_{i}",
                name=call.name,
                arguments=call.arguments,
                raw_arguments=json.dumps(call.arguments, sort_keys=True),
            )
            for i, call in enumerate(step.tool_calls)
        ]

    def _usage(self, step: ScriptStep, request: ChatRequest, output: int) -> Usage:
        if step.usage is not None:
            given = {k: step.usage.get(k, 0) for k in ("input_tokens", "output_tokens")}
            total = step.usage.get("total_tokens", given["input_tokens"] + given["output_tokens"])
            return Usage(**given, total_tokens=total)
        prompt = self._prompt_estimate.tokens(request.messages)
        return Usage(input_tokens=prompt, output_tokens=output, total_tokens=prompt + output)

    def _finish_reason(self, step: ScriptStep) -> str:
        return step.finish_reason or ("tool_calls" if step.tool_calls else "stop")

    async def complete(self, request: ChatRequest) -> ChatResponse:
        step = self.next_step(request)
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.error is not None:
            raise self._error(step, request)
        pieces = step.pieces(request)
        if step.interrupt_after is not None:
            raise StreamInterrupted(
                f"scripted reply of '{self._name}' cut off after {step.interrupt_after} chunk(s)"
            )
        calls = self._tool_calls(step, request)
        return ChatResponse(
            text="".join(pieces),
            tool_calls=calls,
            usage=self._usage(step, request, len(pieces) + len(calls)),
            finish_reason=self._finish_reason(step),
            model=step.model or request.model or self.default_model,
            provider=self._name,
            cost_usd=0.0,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        step = self.next_step(request)
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.error is not None:
            raise self._error(step, request)
        pieces = step.pieces(request)
        for sent, piece in enumerate(pieces):
            if step.interrupt_after is not None and sent >= step.interrupt_after:
                break
            if sent and step.chunk_delay:
                await asyncio.sleep(step.chunk_delay)
            yield TextDelta(piece)
        if step.interrupt_after is not None:
            raise StreamInterrupted(
                f"scripted stream of '{self._name}' cut off after {step.interrupt_after} chunk(s)"
            )
        calls = self._tool_calls(step, request)
        for index, call in enumerate(calls):
            half = len(call.raw_arguments) // 2
            yield ToolCallDelta(index, call.id, call.name, call.raw_arguments[:half])
            yield ToolCallDelta(index, None, None, call.raw_arguments[half:])
        yield StreamFinish(
            finish_reason=self._finish_reason(step),
            usage=self._usage(step, request, len(pieces) + len(calls)),
            tool_calls=tuple(calls),
            model=step.model or request.model or self.default_model,
            cost_usd=0.0,
        )

    async def aclose(self) -> None:
        return None
