"""``Agent``: a model with a system prompt, a conversation, tools, limits and metrics.

One mechanism serves every way of calling an agent: ``_drive`` is an async generator that runs
the whole call (hooks, input checks, the tool-calling loop, history, metrics, events) and yields
stream chunks as the provider produces them. ``stream`` hands that generator to the caller;
``execute`` consumes it (streaming only when given a chunk callback) and returns the output.
A non-streaming call asks the provider for whole answers and yields no chunks.

Each call works on a snapshot of the history and appends its messages when it succeeds, so
concurrent calls of one agent do not block each other; a failed call leaves the history as it was.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from typing import Any, TypeVar

import pydantic

from llmspell.agents import hook_points
from llmspell.agents.call_state import AgentCall
from llmspell.agents.chunks import Chunk, ChunkFactory
from llmspell.agents.collaborators import (
    Budget,
    ContextManager,
    ConversationStore,
    EventSink,
    HookRunner,
    ReadFile,
    ToolInvoker,
)
from llmspell.agents.config import AgentConfig
from llmspell.agents.history import ConversationHistory, messages_from_data, messages_to_data
from llmspell.agents.hook_points import Replacement, RetryRequest
from llmspell.agents.inputs import parse_input, request_parameters, user_message
from llmspell.agents.metrics import AgentMetrics
from llmspell.agents.tool_loop import ToolOutcome, ToolSet
from llmspell.core.errors import LimitExceeded, LlmspellError, ToolError, ValidationError
from llmspell.core.types import (
    AgentInput,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    MediaLimits,
    StreamAccumulator,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    validation_error,
)
from llmspell.providers.base import Provider
from llmspell_utils.ids import new_id
from llmspell_utils.timeouts import Deadline, OperationTimeout, with_timeout

T = TypeVar("T")
ChunkCallback = Callable[[Chunk], Awaitable[None] | None]
"""Called with each chunk; may be a plain function or a coroutine function."""

_STATE_KEYS = ("config", "history", "metrics")


class Agent:
    """An agent over ``provider``. ``model`` overrides the model name taken from the config.

    Optional collaborators (see ``llmspell.agents.collaborators``): ``tools`` (required when
    ``allowed_tools`` are set), ``read_file`` for path-based media, ``media_limits`` (lower
    size limits), ``events``, ``hooks``, ``context``, ``budget`` and ``conversation_store``.
    ``owns_provider``: the provider was built for this agent alone; ``aclose`` closes it.
    """

    def __init__(
        self,
        config: AgentConfig,
        provider: Provider,
        *,
        model: str | None = None,
        tools: ToolInvoker | None = None,
        read_file: ReadFile | None = None,
        media_limits: MediaLimits | None = None,
        events: EventSink | None = None,
        hooks: HookRunner | None = None,
        context: ContextManager | None = None,
        budget: Budget | None = None,
        conversation_store: ConversationStore | None = None,
        owns_provider: bool = False,
    ) -> None:
        self.config = config
        self.provider = provider
        self._owns_provider = owns_provider
        self.model = config.model_id if model is None else model
        self.metrics = AgentMetrics()
        self._tools = ToolSet(config.name, tools, config.allowed_tools)
        self._read_file = read_file
        self._media_limits = media_limits
        self._events = events
        self._hooks = hooks
        self._context = context
        self._budget = budget
        self._store = conversation_store
        self._history = ConversationHistory(config.max_conversation_length)
        if conversation_store is not None:
            saved = conversation_store.load(config.name)
            self._history.replace(messages_from_data(saved, f"conversation of '{config.name}'"))

    async def aclose(self) -> None:
        """Release the provider when this agent owns it (shared providers stay open)."""
        if self._owns_provider:
            await self.provider.aclose()

    # --- description ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def description(self) -> str:
        return self.config.description

    def supports_streaming(self) -> bool:
        return self.config.streaming and self.provider.capabilities.streaming

    def supports_multimodal(self) -> bool:
        return self.provider.capabilities.vision

    def supported_media_types(self) -> list[str]:
        return self.provider.capabilities.media_types

    def get_config(self) -> dict[str, Any]:
        """The configuration in effect, secrets redacted; ``provider`` and ``model`` filled in
        with what was resolved when the config left them out."""
        data = self.config.to_data()
        data["provider"] = data["provider"] or self.provider.name
        data["model"] = data["model"] or self.model or None
        return data

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "type": self.config.type,
            "provider": self.provider.name,
            "model": self.model,
            "allowed_tools": list(self.config.allowed_tools),
            "supports_streaming": self.supports_streaming(),
            "supports_multimodal": self.supports_multimodal(),
        }

    # --- history, metrics, state ----------------------------------------------------------

    def use_context(self, context: Any) -> None:
        """Attach context-window management (see ``llmspell.agents.context.context_for``)."""
        self._context = context

    def get_history(self) -> list[dict[str, Any]]:
        """The conversation after the system prompt, oldest first, as plain messages."""
        return self._history.to_data()

    def clear_history(self) -> None:
        """Forget the conversation held in memory (a conversation store keeps its copy)."""
        self._history.clear()

    def get_metrics(self) -> dict[str, Any]:
        return self.metrics.to_data()

    def get_state(self) -> dict[str, Any]:
        """``{config, history, metrics}`` as plain data (config redacted)."""
        return {
            "config": self.get_config(),
            "history": self.get_history(),
            "metrics": self.get_metrics(),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the history and metrics of a ``get_state`` snapshot. Its ``config`` is a
        record of the agent that saved it and is not applied: this agent keeps its own."""
        if not isinstance(state, Mapping):
            raise ValidationError(f"state must be a table, got {type(state).__name__}")
        unknown = sorted(set(state) - set(_STATE_KEYS))
        if unknown:
            raise ValidationError(
                f"state.{unknown[0]}: unknown key (known keys: {', '.join(_STATE_KEYS)})"
            )
        history = messages_from_data(state.get("history", []), "state.history")
        metrics = AgentMetrics.from_data(state.get("metrics", {}), "state.metrics")
        self._history.replace(history)
        self.metrics = metrics

    async def summarize(self) -> list[dict[str, Any]]:
        """Have the context manager summarise the older turns now, whatever their size; the
        messages the next request will start from. The history itself keeps every message."""
        if self._context is None:
            raise ValidationError(f"agent '{self.name}' has no context management to summarise")
        messages = [*self._system_messages(), *self._history.messages]
        return messages_to_data(await self._context.summarize(messages, self))

    # --- tools ----------------------------------------------------------------------------

    def has_tool(self, name: str) -> bool:
        return self._tools.allows(name)

    async def discover_tools(self) -> list[dict[str, Any]]:
        """``{name, description, parameters}`` of each tool this agent may call."""
        return self._tools.describe(await self._tools.specs())

    async def invoke_tool(
        self, name: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Call one of this agent's tools directly; its errors are raised."""
        started = time.perf_counter()
        self.metrics.tool_invocations += 1
        try:
            result = await self._tools.invoke(name, dict(params or {}))
        except LlmspellError as exc:
            self._tool_event(name, started, exc.lua_message())
            raise
        self._tool_event(name, started, None)
        return result

    # --- running --------------------------------------------------------------------------

    async def execute(
        self, input: str | Mapping[str, Any], on_chunk: ChunkCallback | None = None
    ) -> dict[str, Any]:
        """Run the agent on ``input``; returns ``{text, media, tool_calls, metadata}``.

        With ``on_chunk``, the call streams and ``on_chunk`` receives every chunk as it comes.
        """
        call = AgentCall(input)
        chunks = self._drive(call, streaming=on_chunk is not None)
        async with aclosing(chunks):
            async for chunk in chunks:
                if on_chunk is not None:
                    result = on_chunk(chunk)
                    if inspect.isawaitable(result):
                        await result
        assert call.output is not None
        return call.output

    def stream(self, input: str | Mapping[str, Any]) -> AsyncGenerator[Chunk, None]:
        """The chunks of a streamed call, as the provider produces them. The last chunk is a
        ``control`` chunk with ``signal = "end"`` whose ``data`` is the output's metadata.

        Close the generator (``aclose``) when stopping early, to release the connection."""
        return self._drive(AgentCall(input), streaming=True)

    def open_stream(self, input: str | Mapping[str, Any]) -> AgentStream:
        """``stream`` that keeps the call's output: read every chunk, then ``output`` is what
        ``execute`` would have returned (tool calls and metadata included)."""
        call = AgentCall(input)
        return AgentStream(self._drive(call, streaming=True), call)

    async def invoke_stream(
        self, input: str | Mapping[str, Any], on_chunk: ChunkCallback
    ) -> dict[str, Any]:
        """Stream to ``on_chunk``; returns ``{success, chunks_received, text}``."""
        received = 0

        async def count(chunk: Chunk) -> None:
            nonlocal received
            received += 1
            result = on_chunk(chunk)
            if inspect.isawaitable(result):
                await result

        output = await self.execute(input, count)
        return {"success": True, "chunks_received": received, "text": output["text"]}

    async def _drive(self, call: AgentCall, *, streaming: bool) -> AsyncGenerator[Chunk, None]:
        """The whole call: accounting, events and hook retries around ``_attempt``."""
        self.metrics.requests_total += 1
        if self.config.max_execution_time is not None:
            call.deadline = Deadline(self.config.max_execution_time)
        self._publish(
            "agent.execution.started",
            {
                "agent": self.name,
                "execution_id": call.execution_id,
                "provider": self.provider.name,
                "model": self.model,
                "input": call.input_data,
            },
        )
        chunks = ChunkFactory(new_id("stream"), {"agent": self.name}) if streaming else None
        retries = 0
        try:
            while True:
                try:
                    attempt = self._attempt(call, chunks)
                    async with aclosing(attempt):
                        async for chunk in attempt:
                            yield chunk
                except RetryRequest as request:
                    if retries >= request.attempts:
                        call.output = request.give_up()
                    else:
                        retries += 1
                        if request.delay:
                            await asyncio.sleep(request.delay)
                        call.restart()
                        continue
                break
            self._completed(call)
        except Exception as exc:
            self._failed(call, exc)
            raise
        if chunks is not None and call.output is not None:
            yield chunks.control("end", dict(call.output.get("metadata") or {}))

    async def _attempt(
        self, call: AgentCall, chunks: ChunkFactory | None
    ) -> AsyncGenerator[Chunk, None]:
        """One attempt between the hook points; leaves the output in ``call.output``."""
        output = await self._before(call)
        if output is None:
            turn: list[ChatMessage] = []
            try:
                conversation = self._converse(call, turn, chunks)
                async with aclosing(conversation):
                    async for chunk in conversation:
                        yield chunk
            except Exception as exc:
                output = await self._recover(call, exc)
            else:
                output = await self._after(call, self._output(call, turn[-1].text))
                self._commit(turn)
        call.output = output

    async def _converse(
        self, call: AgentCall, turn: list[ChatMessage], chunks: ChunkFactory | None
    ) -> AsyncGenerator[Chunk, None]:
        """The tool-calling loop: ask the model, run the tools it asks for, feed the results
        back, until it answers. ``turn`` receives the messages; chunks are yielded only when
        streaming (``chunks`` given)."""
        agent_input = parse_input(call.input_data, self._media_limits)
        turn.append(self._user_message(agent_input))
        system = self._system_messages()
        history = self._history.messages
        specs = await self._bounded(call, self._tools.specs())
        self._check_tool_support(specs)
        live = chunks is not None and self.supports_streaming()
        template = self._template([*system, *history, *turn], specs, agent_input, live)
        while True:
            messages = [*system, *history, *turn]
            if self._context is not None:
                messages = await self._bounded(call, self._context.prepare(messages, self))
            request = template.model_copy(update={"messages": messages})
            if self._budget is not None:
                self._budget.check()
            if chunks is not None and live:
                accumulator = StreamAccumulator(provider=self.provider.name, model=self.model)
                calls: dict[int, tuple[str, str | None]] = {}
                events = self.provider.stream(request)
                source = events if call.deadline is None else self._until(call, events)
                try:
                    async for event in source:
                        accumulator.add(event)
                        if isinstance(event, TextDelta):
                            if event.text:
                                yield chunks.text(event.text)
                        elif isinstance(event, ToolCallDelta):
                            yield _progress(chunks, calls, event)
                finally:
                    await _aclose(source)
                    if source is not events:
                        await _aclose(events)
                response = accumulator.response()
            else:
                response = await self._bounded(call, self.provider.complete(request))
                if chunks is not None and response.text:
                    yield chunks.text(response.text)
            self._account(call, response)
            reply = ChatMessage.assistant(response.text or None, response.tool_calls)
            if self._context is not None:
                usage = response.usage
                self._context.record_usage(messages, usage.input_tokens, reply, usage.output_tokens)
            turn.append(reply)
            if not response.tool_calls:
                return
            for outcome in await self._call_tools(call, response.tool_calls):
                turn.append(outcome.message())
                if chunks is not None:
                    yield chunks.tool_call_complete(outcome.call.id, outcome.tool, outcome.result)

    def _user_message(self, agent_input: AgentInput) -> ChatMessage:
        return user_message(
            agent_input,
            agent=self.name,
            provider=self.provider.name,
            capabilities=self.provider.capabilities,
            read_file=self._read_file,
            limits=self._media_limits,
        )

    def _system_messages(self) -> list[ChatMessage]:
        prompt = self.config.system_prompt
        return [ChatMessage.system(prompt)] if prompt else []

    def _check_tool_support(self, specs: list[ToolSpec]) -> None:
        if specs and not self.provider.capabilities.tools:
            raise ValidationError(
                f"agent '{self.name}': provider '{self.provider.name}' does not support "
                "tool calling, but allowed_tools are set"
            )

    def _output(self, call: AgentCall, text: str) -> dict[str, Any]:
        return call.build_output(text, provider=self.provider.name, model=self.model)

    def _replacement(self, call: AgentCall, value: Any) -> dict[str, Any]:
        return call.replacement(value, provider=self.provider.name, model=self.model)

    async def _before(self, call: AgentCall) -> dict[str, Any] | None:
        """Fire ``BeforeAgentExecution``: the replacement output when a hook skipped the call,
        else ``None`` (with the input as the hooks left it)."""
        if self._hooks is None:
            return None
        fired = await hook_points.fire(
            self._hooks, hook_points.BEFORE, self._hook_data(call, input=call.input_data)
        )
        if isinstance(fired, Replacement):
            return self._replacement(call, fired.value)
        call.input_data = fired.get("input", call.input_data)
        return None

    async def _after(self, call: AgentCall, output: dict[str, Any]) -> dict[str, Any]:
        """Fire ``AfterAgentExecution``: the output as the hooks left or replaced it."""
        if self._hooks is None:
            return output
        fired = await hook_points.fire(
            self._hooks,
            hook_points.AFTER,
            self._hook_data(call, input=call.input_data, output=output),
            output=output,
        )
        if isinstance(fired, Replacement):
            return self._replacement(call, fired.value)
        modified = fired.get("output")
        return dict(modified) if isinstance(modified, Mapping) else output

    async def _recover(self, call: AgentCall, exc: Exception) -> dict[str, Any]:
        """Fire ``AgentError``: a hook's replacement output, or ``exc`` raised again."""
        if self._hooks is None:
            raise exc
        fired = await hook_points.fire(
            self._hooks,
            hook_points.ERROR,
            self._hook_data(
                call, input=call.input_data, error=_error_message(exc), error_kind=_kind(exc)
            ),
            error=exc,
        )
        if isinstance(fired, Replacement):
            return self._replacement(call, fired.value)
        raise exc

    def _commit(self, turn: list[ChatMessage]) -> None:
        """Keep a successful call's messages in the history (and the conversation store)."""
        self._history.extend(turn)
        if self._store is not None:
            self._store.append(self.name, messages_to_data(turn))

    def _template(
        self,
        messages: list[ChatMessage],
        specs: list[ToolSpec],
        agent_input: AgentInput,
        stream: bool,
    ) -> ChatRequest:
        """The request every turn of this call copies (only its messages change)."""
        fields: dict[str, Any] = {}
        if self.config.temperature is not None:
            fields["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            fields["max_tokens"] = self.config.max_tokens
        fields.update(request_parameters(agent_input.parameters))
        try:
            return ChatRequest(
                model=self.model, messages=messages, tools=specs or None, stream=stream, **fields
            )
        except pydantic.ValidationError as exc:
            raise validation_error(exc, "input.parameters") from None

    async def _until(
        self, call: AgentCall, events: AsyncIterator[StreamEvent]
    ) -> AsyncGenerator[StreamEvent, None]:
        """``events``, each wait bounded by what is left of ``max_execution_time``."""
        while True:
            try:
                event = await self._bounded(call, anext(events))
            except StopAsyncIteration:
                return
            yield event

    async def _bounded(self, call: AgentCall, awaitable: Awaitable[T]) -> T:
        """Await within the call's ``max_execution_time``; ``LimitExceeded`` once it is over."""
        if call.deadline is None:
            return await awaitable
        limit = call.deadline.seconds
        message = f"agent '{self.name}' exceeded max_execution_time ({limit:g} s)"
        try:
            return await with_timeout(awaitable, call.deadline.remaining(), message)
        except OperationTimeout:
            if call.deadline.expired:
                raise LimitExceeded(message, "timeout") from None
            raise

    def _account(self, call: AgentCall, response: ChatResponse) -> None:
        """Add one model response's usage to the call, the metrics and the budget."""
        call.record(response)
        usage = response.usage
        self.metrics.add_usage(usage.input_tokens, usage.output_tokens, usage.total_tokens)
        self.metrics.cost_usd += response.cost_usd or 0.0
        if self._budget is not None:
            self._budget.charge(usage.input_tokens, usage.output_tokens, response.cost_usd or 0.0)

    async def _call_tools(self, call: AgentCall, calls: list[ToolCall]) -> list[ToolOutcome]:
        limit = self.config.max_tool_calls
        if len(call.tool_calls) + len(calls) > limit:
            raise ToolError(f"agent '{self.name}' exceeded max_tool_calls ({limit})")
        outcomes = await self._bounded(call, self._tools.run(calls))
        for outcome in outcomes:
            call.tool_calls.append(outcome.to_data())
            self.metrics.tool_invocations += 1
            error = None if outcome.success else str(outcome.result.get("error"))
            self._publish(
                "agent.tool.called",
                {
                    "agent": self.name,
                    "execution_id": call.execution_id,
                    "tool": outcome.tool,
                    "tool_call_id": outcome.call.id,
                    "success": outcome.success,
                    "duration_ms": outcome.duration_ms,
                    "error": error,
                },
            )
        return outcomes

    def _completed(self, call: AgentCall) -> None:
        self._publish(
            "agent.execution.completed",
            {
                "agent": self.name,
                "execution_id": call.execution_id,
                "duration_ms": call.duration_ms,
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "total_tokens": call.total_tokens,
                "cost_usd": call.cost_usd,
                "finish_reason": call.finish_reason,
                "tool_call_count": len(call.tool_calls),
            },
        )

    def _failed(self, call: AgentCall, exc: Exception) -> None:
        self.metrics.requests_failed += 1
        self._publish(
            "agent.execution.failed",
            {
                "agent": self.name,
                "execution_id": call.execution_id,
                "duration_ms": call.duration_ms,
                "error_kind": _kind(exc),
                "error": _error_message(exc),
            },
        )

    def _hook_data(self, call: AgentCall, **data: Any) -> dict[str, Any]:
        return {"agent": self.name, "execution_id": call.execution_id, **data}

    def _publish(self, type: str, data: dict[str, Any]) -> None:
        if self._events is not None:
            self._events.publish(type, data)

    def _tool_event(self, tool: str, started: float, error: str | None) -> None:
        """The event of a direct ``invoke_tool`` call (outside any execution)."""
        self._publish(
            "agent.tool.called",
            {
                "agent": self.name,
                "execution_id": None,
                "tool": tool,
                "tool_call_id": None,
                "success": error is None,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "error": error,
            },
        )


class AgentStream:
    """The chunks of one streamed call (an async iterator) and, once they are all read, its
    output. ``aclose`` stops the call early, releasing the provider's connection."""

    __slots__ = ("_call", "chunks")

    def __init__(self, chunks: AsyncGenerator[Chunk, None], call: AgentCall) -> None:
        self.chunks = chunks
        self._call = call

    def __aiter__(self) -> AsyncGenerator[Chunk, None]:
        return self.chunks

    async def aclose(self) -> None:
        await self.chunks.aclose()

    @property
    def output(self) -> dict[str, Any] | None:
        """``{text, media, tool_calls, metadata}`` once the last chunk was read, else None."""
        return self._call.output


def _progress(
    chunks: ChunkFactory, calls: dict[int, tuple[str, str | None]], event: ToolCallDelta
) -> Chunk:
    """A ``tool_call_progress`` chunk; later deltas of a call carry only its index."""
    known = calls.get(event.index)
    if known is None:
        known = (event.id or f"call_{event.index}", event.name)
        calls[event.index] = known
    return chunks.tool_call_progress(known[0], event.name or known[1], event.arguments)


def _kind(exc: Exception) -> str:
    return exc.kind if isinstance(exc, LlmspellError) else type(exc).__name__


def _error_message(exc: Exception) -> str:
    """``Kind: message``, as a script would see the error."""
    return exc.lua_message() if isinstance(exc, LlmspellError) else f"{_kind(exc)}: {exc}"


async def _aclose(events: AsyncIterator[Any]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
