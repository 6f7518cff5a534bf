"""Multimodal input: images become vision parts; what the model cannot take never leaves."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from agent_testkit import make_agent

from llmspell.core.errors import PermissionDenied, ValidationError
from llmspell.core.types import Capabilities, ImagePart, MediaLimits, TextPart
from llmspell.providers.scripted import ScriptedProvider

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


async def test_base64_image_becomes_a_vision_part() -> None:
    agent, provider = make_agent(ScriptedProvider(["a cat"]))
    encoded = base64.b64encode(PNG).decode()
    output = await agent.execute(
        {"text": "What is this?", "media": [{"type": "image", "base64": encoded, "format": "png"}]}
    )
    assert output["text"] == "a cat"
    content = provider.requests[0].messages[-1].content
    assert isinstance(content, list)
    text, image = content
    assert isinstance(text, TextPart) and text.text == "What is this?"
    assert isinstance(image, ImagePart)
    assert image.data_url() == f"data:image/png;base64,{encoded}"
    stored = agent.get_history()[0]["content"][1]
    assert stored["url"].startswith("data:image/png;base64,")


async def test_image_path_is_read_through_the_injected_reader(tmp_path: Path) -> None:
    picture = tmp_path / "p.png"
    picture.write_bytes(PNG)
    reads: list[str] = []

    def read_file(path: str) -> bytes:
        reads.append(path)
        return Path(path).read_bytes()

    agent, provider = make_agent(ScriptedProvider(["seen"]), read_file=read_file)
    await agent.execute(
        {"text": "look", "media": [{"type": "image", "path": str(picture), "format": "png"}]}
    )
    assert reads == [str(picture)]
    image = provider.requests[0].messages[-1].content[1]  # type: ignore[index]
    assert isinstance(image, ImagePart) and base64.b64encode(PNG).decode() in image.data_url()


async def test_image_path_without_a_reader_is_denied(tmp_path: Path) -> None:
    picture = tmp_path / "p.png"
    picture.write_bytes(PNG)
    agent, provider = make_agent()
    with pytest.raises(PermissionDenied, match=r"input\.media\[0\]"):
        await agent.execute(
            {"text": "x", "media": [{"type": "image", "path": str(picture), "format": "png"}]}
        )
    assert provider.requests == []


async def test_read_image_over_the_limit_is_refused() -> None:
    limits = MediaLimits(image=10)
    agent, provider = make_agent(read_file=lambda path: PNG, media_limits=limits)
    with pytest.raises(ValidationError, match="over the image size limit"):
        await agent.execute(
            {"text": "x", "media": [{"type": "image", "path": "/virtual.png", "format": "png"}]}
        )
    assert provider.requests == []


async def test_model_without_vision_is_refused_before_any_request() -> None:
    provider = ScriptedProvider(["never"], capabilities=Capabilities(vision=False, tools=True))
    agent, _ = make_agent(provider)
    assert not agent.supports_multimodal()
    assert agent.supported_media_types() == ["text"]
    with pytest.raises(ValidationError, match=r"input\.media\[0\].*no vision support"):
        await agent.execute(
            {
                "text": "x",
                "media": [{"type": "image", "url": "https://example.com/a.png", "format": "png"}],
            }
        )
    assert provider.requests == []
    assert provider.remaining == 1


async def test_media_kinds_chat_cannot_carry_are_refused() -> None:
    agent, provider = make_agent()
    with pytest.raises(ValidationError, match="cannot send audio media"):
        await agent.execute(
            {"text": "x", "media": [{"type": "audio", "base64": "AAAA", "format": "mp3"}]}
        )
    assert provider.requests == []


async def test_url_image_is_passed_by_reference() -> None:
    agent, provider = make_agent(ScriptedProvider(["ok"]))
    await agent.execute(
        {"media": [{"type": "image", "url": "https://example.com/a.jpg", "format": "jpg"}]}
    )
    (image,) = provider.requests[0].messages[-1].content  # type: ignore[misc, str-unpack]
    assert isinstance(image, ImagePart) and image.url == "https://example.com/a.jpg"
    assert image.mime_type == "image/jpeg"
