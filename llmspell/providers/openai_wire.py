"""The OpenAI chat-completions wire format, both ways.

Client side (native backend, litellm backend): ``ChatRequest`` to a JSON body, a JSON response
or stream chunks back to ``ChatResponse`` / stream events. Server side (the mock server): a JSON
body to ``ChatRequest``, and responses and events to JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from llmspell.core.errors import ProviderError, ValidationError
from llmspell.core.types import (
    ChatMessage,
    ChatRequest,
    ChatResponse,
    ImagePart,
    StreamEvent,
    StreamFinish,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)

# --- client side -------------------------------------------------------------------------------


def request_body(request: ChatRequest, model: str, *, stream: bool) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``request``, using ``model``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [message_to_wire(m) for m in request.messages],
    }
    if request.tools:
        body["tools"] = [tool_to_wire(t) for t in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = request.tool_choice
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.response_format is not None:
        body["response_format"] = request.response_format
    if request.stop:
        body["stop"] = request.stop
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    body.update(request.extra)
    return body


def message_to_wire(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role}
    if isinstance(message.content, list):
        out["content"] = [_part_to_wire(p) for p in message.content]
    else:
        out["content"] = message.content
    if message.name is not None:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.raw_arguments or json.dumps(c.arguments),
                },
            }
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def _part_to_wire(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    image: dict[str, Any] = {"url": part.data_url()}
    if part.detail is not None:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def usage_from_wire(data: Any) -> Usage | None:
    if not isinstance(data, Mapping):
        return None
    prompt = _int(data.get("prompt_tokens"))
    completion = _int(data.get("completion_tokens"))
    total = _int(data.get("total_tokens")) or prompt + completion
    return Usage(input_tokens=prompt, output_tokens=completion, total_tokens=total)


def parse_arguments(raw: str) -> dict[str, Any]:
    """Tool-call arguments as a dict; ``{}`` when the text is empty or not a JSON object
    (``ToolCall.raw_arguments`` keeps the text for the caller to report)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def response_from_body(body: Any, provider: str) -> ChatResponse:
    """A non-streamed chat completion body as a ``ChatResponse`` (cost not set)."""
    if not isinstance(body, Mapping):
        raise ProviderError(f"provider '{provider}' sent a response that is not a JSON object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise ProviderError(f"provider '{provider}' sent a response without choices")
    choice = choices[0]
    found = choice.get("message")
    message: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    calls: list[ToolCall] = []
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        raw = function.get("arguments") or ""
        if not isinstance(raw, str):
            raw = json.dumps(raw)
        calls.append(
            ToolCall(
                id=str(call.get("id") or f"call_{index}"),
                name=str(function.get("name") or ""),
                arguments=parse_arguments(raw),
                raw_arguments=raw,
            )
        )
    content = message.get("content")
    return ChatResponse(
        text=content if isinstance(content, str) else "",
        tool_calls=calls,
        usage=usage_from_wire(body.get("usage")) or Usage(),
        finish_reason=choice.get("finish_reason"),
        model=str(body.get("model") or ""),
        provider=provider,
        raw=dict(body),
    )


class StreamDecoder:
    """Turns stream chunks into events, assembling tool-call fragments by index.

    ``feed`` returns the events of one chunk; ``finish`` builds the closing ``StreamFinish``
    from the finish reason, the last usage seen and the assembled tool calls.
    """

    __slots__ = ("_calls", "finish_reason", "model", "usage")

    def __init__(self) -> None:
        self._calls: dict[int, list[Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model = ""

    def feed(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self.model and chunk.get("model"):
            self.model = str(chunk["model"])
        usage = chunk.get("usage")
        if usage:
            self.usage = usage_from_wire(usage)
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                events.append(TextDelta(text))
            for call in delta.get("tool_calls") or ():
                events.append(self._tool_delta(call))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return events

    def _tool_delta(self, call: Mapping[str, Any]) -> ToolCallDelta:
        index = _int(call.get("index"))
        function = call.get("function") or {}
        fragment = function.get("arguments") or ""
        slot = self._calls.setdefault(index, [None, None, []])
        if call.get("id"):
            slot[0] = call["id"]
        if function.get("name"):
            slot[1] = function["name"]
        slot[2].append(fragment)
        return ToolCallDelta(index, call.get("id"), function.get("name"), fragment)

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    def finish(self, cost_usd: float | None = None) -> StreamFinish:
        calls = []
        for index in sorted(self._calls):
            call_id, name, parts = self._calls[index]
            raw = "".join(parts)
            calls.append(
                ToolCall(
                    id=call_id or f"call_{index}",
                    name=name or "",
                    arguments=parse_arguments(raw),
                    raw_arguments=raw,
                )
            )
        return StreamFinish(
            finish_reason=self.finish_reason,
            usage=self.usage,
            tool_calls=tuple(calls),
            model=self.model,
            cost_usd=cost_usd,
        )


def error_message(body: Any) -> str | None:
    """The human message inside an error body (``{"error": {"message": ...}}`` and variants)."""
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping):
            msg = err.get("message") or err.get("detail")
            return str(msg) if msg else None
        if isinstance(err, str):
            return err
    return None


# --- server side -------------------------------------------------------------------------------


def request_from_body(body: Any) -> ChatRequest:
    """Validate an incoming chat-completions body; ``ValidationError`` names the bad field."""
    import pydantic

    from llmspell.core.types import validation_error

    if not isinstance(body, Mapping):
        raise ValidationError("request body must be a JSON object")
    known = {
        "model",
        "messages",
        "tools",
        "tool_choice",
        "temperature",
        "max_tokens",
        "response_format",
        "stop",
        "stream",
    }
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise ValidationError("request body: 'messages' must be a list")
    stop = body.get("stop")
    data: dict[str, Any] = {
        "model": body.get("model") or "",
        "messages": [_message_from_wire(m, i) for i, m in enumerate(messages)],
        "tools": [_tool_from_wire(t) for t in body["tools"]] if body.get("tools") else None,
        "tool_choice": body.get("tool_choice"),
        "temperature": body.get("temperature"),
        "max_tokens": body.get("max_tokens") or body.get("max_completion_tokens"),
        "response_format": body.get("response_format"),
        "stop": [stop] if isinstance(stop, str) else stop,
        "stream": bool(body.get("stream", False)),
        "extra": {k: v for k, v in body.items() if k not in known},
    }
    try:
        return ChatRequest.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, "request") from None


def _message_from_wire(message: Any, index: int) -> dict[str, Any]:
    if not isinstance(message, Mapping):
        raise ValidationError(f"request.messages[{index}] must be an object")
    content = message.get("content")
    if isinstance(content, list):
        content = [_part_from_wire(p, index) for p in content]
    calls = None
    if message.get("tool_calls"):
        calls = []
        for call in message["tool_calls"]:
            function = call.get("function") or {}
            raw = function.get("arguments") or ""
            calls.append(
                {
                    "id": call.get("id") or "",
                    "name": function.get("name") or "",
                    "arguments": parse_arguments(raw),
                    "raw_arguments": raw,
                }
            )
    return {
        "role": message.get("role"),
        "content": content,
        "name": message.get("name"),
        "tool_calls": calls,
        "tool_call_id": message.get("tool_call_id"),
    }


def _part_from_wire(part: Any, index: int) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url") or {}
        url = image.get("url", "") if isinstance(image, Mapping) else str(image)
        detail = image.get("detail") if isinstance(image, Mapping) else None
        if url.startswith("data:") and ";base64," in url:
            header, encoded = url[5:].split(";base64,", 1)
            try:
                data = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise ValidationError(
                    f"request.messages[{index}]: image data URL is not valid base64"
                ) from None
            return {"type": "image", "data": data, "mime_type": header, "detail": detail}
        return {"type": "image", "url": url, "detail": detail}
    raise ValidationError(f"request.messages[{index}]: unsupported content part type {kind!r}")


def _tool_from_wire(tool: Any) -> dict[str, Any]:
    function = tool.get("function", tool) if isinstance(tool, Mapping) else {}
    return {
        "name": function.get("name", ""),
        "description": function.get("description") or "",
        "parameters": function.get("parameters") or {"type": "object", "properties": {}},
    }


def usage_to_wire(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }


def _tool_calls_to_wire(calls: list[ToolCall] | tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "type": "function",
            "function": {"name": c.name, "arguments": c.raw_arguments or json.dumps(c.arguments)},
        }
        for c in calls
    ]


def response_to_body(response: ChatResponse, model: str, response_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": response.text or None}
    if response.tool_calls:
        message["tool_calls"] = _tool_calls_to_wire(response.tool_calls)
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model or model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": response.finish_reason or "stop"}
        ],
        "usage": usage_to_wire(response.usage),
    }


def event_to_chunks(event: StreamEvent, model: str, response_id: str) -> list[dict[str, Any]]:
    """The stream chunk(s) for one event; a finish becomes a finish chunk plus a usage chunk."""
    base: dict[str, Any] = {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    if isinstance(event, TextDelta):
        delta: dict[str, Any] = {"content": event.text}
        return [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}]
    if isinstance(event, ToolCallDelta):
        function: dict[str, Any] = {"arguments": event.arguments}
        if event.name is not None:
            function["name"] = event.name
        call: dict[str, Any] = {"index": event.index, "function": function}
        if event.id is not None:
            call["id"] = event.id
            call["type"] = "function"
        delta = {"tool_calls": [call]}
        return [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}]
    chunks = [
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": event.finish_reason or "stop"}],
        }
    ]
    if event.usage is not None:
        chunks.append({**base, "choices": [], "usage": usage_to_wire(event.usage)})
    return chunks


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
