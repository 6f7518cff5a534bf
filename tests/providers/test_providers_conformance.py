"""One behaviour, every offline backend: scripted in process, native and litellm over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from provider_backends import Subject

from llmspell.core.errors import AuthenticationError, ModelNotFound, ProviderError, RateLimited
from llmspell.core.types import (
    Capabilities,
    ChatMessage,
    ChatRequest,
    ImagePart,
    StreamFinish,
    TextDelta,
    ToolCallDelta,
    ToolSpec,
)
from llmspell.providers.base import Provider, collect
from llmspell.providers.scripted import ErrorKind

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
CALC = ToolSpec(
    name="calculator",
    description="Evaluate arithmetic",
    parameters={"type": "object", "properties": {"input": {"type": "string"}}},
)


def needs_script(subject: Subject) -> None:
    if not subject.backend.scripted:
        pytest.skip(f"{subject.backend.name} does not follow a script")


def ask(subject: Subject, text: str = "Say hello", **fields: Any) -> ChatRequest:
    return ChatRequest(model=subject.model, messages=[ChatMessage.user(text)], **fields)


async def test_is_a_provider(subject: Subject) -> None:
    assert isinstance(subject.provider, Provider)
    assert isinstance(subject.provider.capabilities, Capabilities)
    assert subject.provider.name


async def test_complete_returns_text_usage_and_finish(subject: Subject) -> None:
    subject.script.reply("Hello from the script")
    response = await subject.provider.complete(ask(subject, "Say hello please"))
    if subject.backend.scripted:
        assert response.text == "Hello from the script"
    assert response.text
    assert response.finish_reason == "stop"
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


async def test_stream_yields_deltas_then_one_finish(subject: Subject) -> None:
    subject.script.push({"chunks": ["One", " two", " three"]})
    events = [e async for e in subject.provider.stream(ask(subject))]
    assert isinstance(events[-1], StreamFinish)
    assert not any(isinstance(e, StreamFinish) for e in events[:-1])
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(texts) >= 2
    if subject.backend.scripted:
        assert texts == ["One", " two", " three"]
    finish = events[-1]
    assert finish.finish_reason == "stop"
    assert finish.usage is not None and finish.usage.output_tokens > 0


async def test_stream_and_complete_agree(subject: Subject) -> None:
    needs_script(subject)
    subject.script.reply("the same answer both ways")
    subject.script.reply("the same answer both ways")
    whole = await subject.provider.complete(ask(subject))
    streamed = await collect(subject.provider.stream(ask(subject)))
    assert streamed.text == whole.text == "the same answer both ways"
    assert streamed.usage == whole.usage


async def test_tool_call_reply(subject: Subject) -> None:
    needs_script(subject)
    subject.script.tool_call("calculator", {"input": "2 + 2"})
    response = await subject.provider.complete(ask(subject, "What is 2+2?", tools=[CALC]))
    assert response.finish_reason == "tool_calls"
    [call] = response.tool_calls
    assert call.name == "calculator"
    assert call.arguments == {"input": "2 + 2"}
    assert call.id
    seen = subject.script.requests[-1]
    assert seen.tools is not None and seen.tools[0].name == "calculator"
    assert seen.tools[0].parameters["properties"]["input"] == {"type": "string"}


async def test_streamed_tool_call_deltas_are_assembled(subject: Subject) -> None:
    needs_script(subject)
    subject.script.push(
        {
            "tool_calls": [
                {"name": "calculator", "arguments": {"input": "6 * 7"}},
                {"name": "clock", "arguments": {"zone": "UTC"}},
            ]
        }
    )
    events = [e async for e in subject.provider.stream(ask(subject, "go", tools=[CALC]))]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert {d.index for d in deltas} == {0, 1}
    assert len(deltas) >= 4
    finish = events[-1]
    assert isinstance(finish, StreamFinish)
    assert finish.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in finish.tool_calls] == [
        ("calculator", {"input": "6 * 7"}),
        ("clock", {"zone": "UTC"}),
    ]
    for call in finish.tool_calls:
        assert call.id


async def test_tool_results_reach_the_model(subject: Subject) -> None:
    needs_script(subject)
    subject.script.reply("It is 4.")
    call = {"id": "call_1", "name": "calculator", "arguments": {"input": "2+2"}}
    request = ChatRequest(
        model=subject.model,
        messages=[
            ChatMessage.user("What is 2+2?"),
            ChatMessage.assistant(None, [call]),  # type: ignore[list-item]
            ChatMessage.tool("call_1", "4", name="calculator"),
        ],
        tools=[CALC],
    )
    assert (await subject.provider.complete(request)).text == "It is 4."
    seen = subject.script.requests[-1]
    assert seen.messages[1].tool_calls is not None
    assert seen.messages[1].tool_calls[0].arguments == {"input": "2+2"}
    assert seen.messages[2].role == "tool"
    assert seen.messages[2].tool_call_id == "call_1"
    assert seen.messages[2].text == "4"


async def test_vision_content_parts_arrive_intact(subject: Subject) -> None:
    needs_script(subject)
    subject.script.reply("a tiny image")
    image = ImagePart(data=PNG, mime_type="image/png")
    linked = ImagePart(url="https://example.invalid/cat.jpg", mime_type="image/jpeg")
    request = ChatRequest(
        model=subject.model, messages=[ChatMessage.user("What is this?", [image, linked])]
    )
    await subject.provider.complete(request)
    content = subject.script.requests[-1].messages[0].content
    assert isinstance(content, list)
    parts = [p for p in content if isinstance(p, ImagePart)]
    assert parts[0].data == PNG
    assert parts[0].mime_type == "image/png"
    assert parts[1].url == "https://example.invalid/cat.jpg"
    assert subject.script.requests[-1].messages[0].text == "What is this?"


async def test_request_options_reach_the_model(subject: Subject) -> None:
    needs_script(subject)
    subject.script.reply("ok")
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    await subject.provider.complete(
        ask(subject, temperature=0.0, max_tokens=5, stop=["END"], response_format=schema)
    )
    seen = subject.script.requests[-1]
    assert seen.temperature == 0.0
    assert seen.max_tokens == 5
    assert seen.stop == ["END"]
    assert seen.response_format == schema


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("rate_limited", RateLimited),
        ("auth", AuthenticationError),
        ("model_not_found", ModelNotFound),
    ],
)
async def test_injected_failures_keep_their_kind(
    subject: Subject, kind: ErrorKind, error: type[ProviderError]
) -> None:
    needs_script(subject)
    subject.script.fail(kind)
    with pytest.raises(error):
        await subject.provider.complete(ask(subject))
    subject.script.fail(kind)
    with pytest.raises(error):
        [e async for e in subject.provider.stream(ask(subject))]
