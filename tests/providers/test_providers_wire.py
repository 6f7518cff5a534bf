"""The OpenAI wire format, the scripted provider's own behaviour, pricing and statuses."""

from __future__ import annotations

import email.utils
import subprocess
import sys
import time
from typing import Any

import pytest

from llmspell.core.errors import ProviderError, ValidationError
from llmspell.core.types import (
    ChatMessage,
    ChatRequest,
    ImagePart,
    StreamEvent,
    StreamFinish,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
)
from llmspell.providers import openai_wire as wire
from llmspell.providers.pricing import cost_usd, model_info
from llmspell.providers.scripted import ScriptedProvider
from llmspell.providers.status import parse_retry_after


def test_request_body_has_the_openai_shape() -> None:
    request = ChatRequest(
        messages=[
            ChatMessage.system("be brief"),
            ChatMessage.user("see", [ImagePart(data=b"\x01\x02", mime_type="image/png")]),
            ChatMessage.assistant(None, [ToolCall(id="c1", name="f", arguments={"a": 1})]),
            ChatMessage.tool("c1", "result"),
        ],
        tools=[ToolSpec(name="f", description="d", parameters={"type": "object"})],
        tool_choice="auto",
        temperature=0.2,
        extra={"seed": 7},
    )
    body = wire.request_body(request, "gpt-4o", stream=True)
    assert body["model"] == "gpt-4o"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["seed"] == 7
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AQI="}},
    ]
    call = body["messages"][2]["tool_calls"][0]
    assert call == {
        "id": "c1",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": 1}'},
    }
    assert body["messages"][3] == {"role": "tool", "content": "result", "tool_call_id": "c1"}
    assert body["tools"][0]["function"]["name"] == "f"
    assert "max_tokens" not in body


def test_decoder_assembles_interleaved_tool_call_fragments() -> None:
    decoder = wire.StreamDecoder()
    chunks: list[dict[str, Any]] = [
        {"model": "m", "choices": [{"delta": {"role": "assistant", "content": "Let me"}}]},
        {"choices": [{"delta": {"tool_calls": [
            {"index": 0, "id": "a", "function": {"name": "one", "arguments": '{"x"'}}]}}]},
        {"choices": [{"delta": {"tool_calls": [
            {"index": 1, "id": "b", "function": {"name": "two", "arguments": ""}}]}}]},
        {"choices": [{"delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": ": 1}"}},
            {"index": 1, "function": {"arguments": '{"y": [2]}'}}]}}]},
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}},
    ]  # fmt: skip
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    assert isinstance(events[0], TextDelta)
    assert [e.index for e in events if isinstance(e, ToolCallDelta)] == [0, 1, 0, 1]
    finish = decoder.finish(cost_usd=0.5)
    assert finish.finish_reason == "tool_calls"
    assert finish.usage is not None and finish.usage.total_tokens == 12
    assert [(c.id, c.name, c.arguments) for c in finish.tool_calls] == [
        ("a", "one", {"x": 1}),
        ("b", "two", {"y": [2]}),
    ]
    assert (finish.model, finish.cost_usd) == ("m", 0.5)


def test_unparseable_tool_arguments_are_kept_raw() -> None:
    decoder = wire.StreamDecoder()
    fragment = {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{not json"}}
    decoder.feed({"choices": [{"delta": {"tool_calls": [fragment]}}]})
    [call] = decoder.finish().tool_calls
    assert (call.arguments, call.raw_arguments) == ({}, "{not json")


def test_server_side_round_trip() -> None:
    request = ChatRequest(
        model="m",
        messages=[ChatMessage.user("hi", [ImagePart(data=b"\xff", mime_type="image/jpeg")])],
        stop=["x"],
    )
    back = wire.request_from_body(wire.request_body(request, "m", stream=False))
    assert back.messages == request.messages
    assert back.stop == ["x"]
    with pytest.raises(ValidationError, match=r"request\.messages\[0\]\.role"):
        wire.request_from_body({"messages": [{"role": "robot", "content": "x"}]})
    with pytest.raises(ValidationError, match="'messages' must be a list"):
        wire.request_from_body({"model": "m"})


def test_events_become_chunks_that_decode_back() -> None:
    finish = StreamFinish("tool_calls", None, (ToolCall(id="c", name="f", arguments={}),))
    events: list[StreamEvent] = [TextDelta("hi"), ToolCallDelta(0, "c", "f", "{}"), finish]
    decoder = wire.StreamDecoder()
    for event in events:
        for chunk in wire.event_to_chunks(event, "m", "id1"):
            decoder.feed(chunk)
    assert decoder.finish().tool_calls[0].name == "f"
    assert decoder.finish_reason == "tool_calls"


def test_response_without_choices_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="without choices"):
        wire.response_from_body({"choices": []}, "p")


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30, abs=1)


def test_prices_from_the_bundled_table() -> None:
    info = model_info("gpt-4o-mini", "openai")
    assert info is not None
    assert info.max_input_tokens == 128000
    assert cost_usd("gpt-4o-mini", 1_000_000, 0, "openai") == pytest.approx(0.15)
    assert cost_usd("claude-haiku-4-5", 0, 1_000_000, "anthropic") == pytest.approx(5.0)
    assert cost_usd("no-such-model", 10, 10) is None
    # a bare name listed under another provider is not that provider's price
    assert model_info("claude-haiku-4-5", "openai") is None


def test_price_table_is_read_without_importing_litellm() -> None:
    code = (
        "import sys; from llmspell.providers.pricing import cost_usd; "
        "print(cost_usd('gpt-4o-mini', 1000, 1000, 'openai') > 0, 'litellm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["True", "False"]


async def test_scripted_match_echo_and_exhaustion() -> None:
    script = ScriptedProvider(
        [{"text": "about cats", "match": "cat"}, "first in line"], name="s", echo=False
    )

    def ask(text: str) -> ChatRequest:
        return ChatRequest(messages=[ChatMessage.user(text)])

    assert (await script.complete(ask("tell me about dogs"))).text == "first in line"
    assert (await script.complete(ask("and a cat?"))).text == "about cats"
    with pytest.raises(ProviderError, match="scripted provider 's' has no reply left"):
        await script.complete(ask("more"))
    script.echo = True
    assert (await script.complete(ask("repeat me"))).text == "repeat me"
    assert [r.messages[0].text for r in script.requests][-1] == "repeat me"


async def test_scripted_stream_pieces_and_usage() -> None:
    script = ScriptedProvider(
        [{"text": "one two three", "usage": {"input_tokens": 9, "output_tokens": 3}}]
    )
    events = [e async for e in script.stream(ChatRequest(messages=[ChatMessage.user("x")]))]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two ", "three"]
    finish = events[-1]
    assert isinstance(finish, StreamFinish)
    assert finish.usage is not None and finish.usage.total_tokens == 12


def test_scripted_options_are_validated() -> None:
    from llmspell.core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown key 'reply'"):
        ScriptedProvider.from_options("t", {"reply": []})
    with pytest.raises(ConfigError, match=r"replies\[0\]\.error: Input should be"):
        ScriptedProvider.from_options("t", {"replies": [{"error": "boom"}]})
    built = ScriptedProvider.from_options("t", {"capabilities": {"vision": False}})
    assert built.capabilities.vision is False
    assert built.echo is True  # nothing scripted: echo by default
