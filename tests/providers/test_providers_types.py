"""Core types: media validation and limits, agent input/output/chunks, chat messages."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from llmspell.core.errors import ValidationError
from llmspell.core.types import (
    MB,
    AgentChunk,
    AgentInput,
    AgentOutput,
    AudioContent,
    BinaryContent,
    Capabilities,
    ChatMessage,
    ControlChunk,
    ImageContent,
    ImagePart,
    MediaLimits,
    StreamAccumulator,
    StreamFinish,
    TextContent,
    TextDelta,
    TextMedia,
    ToolCall,
    ToolCallComplete,
    ToolCallProgress,
    Usage,
    VideoContent,
    check_media_size,
    media_from_path,
    parse_media,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"type": "image", "data": PNG, "format": "png"}, ImageContent),
        ({"type": "audio", "data": b"ID3", "format": "mp3"}, AudioContent),
        ({"type": "video", "url": "https://x.invalid/v.mp4", "format": "mp4"}, VideoContent),
        ({"type": "binary", "data": b"\x00\x01", "filename": "a.bin"}, BinaryContent),
        ({"type": "text", "text": "hi"}, TextMedia),
    ],
)
def test_media_variants(value: dict[str, object], expected: type) -> None:
    assert isinstance(parse_media(value), expected)


@pytest.mark.parametrize(
    ("kind", "formats"),
    [
        ("image", ["png", "jpeg", "webp", "gif", "svg", "tiff"]),
        ("audio", ["mp3", "wav", "flac", "ogg", "m4a"]),
        ("video", ["mp4", "webm", "avi", "mov", "mkv"]),
    ],
)
def test_every_documented_format_is_accepted(kind: str, formats: list[str]) -> None:
    for fmt in formats:
        media = parse_media({"type": kind, "data": b"x", "format": fmt})
        assert media.format == fmt
        assert media.mime_type.startswith(f"{kind}/")


def test_format_spellings_are_normalised() -> None:
    assert parse_media({"type": "image", "data": b"x", "format": "JPG"}).format == "jpeg"
    assert parse_media({"type": "image", "data": b"x", "format": ".tif"}).format == "tiff"
    assert parse_media({"type": "image", "data": b"x", "format": "image/png"}).format == "png"


def test_unknown_format_names_the_field() -> None:
    with pytest.raises(ValidationError, match=r"media\.image\.format: Input should be 'png'"):
        parse_media({"type": "image", "data": b"x", "format": "bmp"})


def test_base64_is_decoded() -> None:
    encoded = base64.b64encode(PNG).decode()
    media = parse_media({"type": "image", "base64": encoded, "format": "png"})
    assert media.data == PNG
    with pytest.raises(ValidationError, match="not valid base64"):
        parse_media({"type": "image", "base64": "%%%", "format": "png"})


def test_exactly_one_source() -> None:
    with pytest.raises(ValidationError, match="exactly one of 'data', 'base64', 'path' or 'url'"):
        parse_media({"type": "image", "format": "png"})
    with pytest.raises(ValidationError, match=r"\(got data, url\)"):
        parse_media({"type": "image", "data": b"x", "url": "https://x.invalid", "format": "png"})


def test_default_limits_are_the_documented_maximums() -> None:
    limits = MediaLimits()
    assert limits.image == 100 * MB
    assert limits.audio == 500 * MB
    assert limits.video == 5 * 1024 * MB
    assert limits.binary == 1024 * MB


def test_size_over_the_limit_names_the_limit() -> None:
    small = MediaLimits(image=10, binary=4)
    with pytest.raises(
        ValidationError,
        match=r"image is 11 bytes, over the image size limit of 10 bytes \(media_limits\.image\)",
    ):
        parse_media({"type": "image", "data": b"x" * 11, "format": "png"}, small)
    parse_media({"type": "image", "data": b"x" * 10, "format": "png"}, small)
    with pytest.raises(ValidationError, match="binary size limit"):
        AgentInput.from_data({"media": [{"type": "binary", "data": b"12345"}]}, small)


def test_default_image_limit_applies_without_configuration() -> None:
    too_big = b"\x00" * (100 * MB + 1)
    with pytest.raises(ValidationError, match="over the image size limit of 100 MB"):
        ImageContent(data=too_big, format="png")


def test_limits_can_only_be_lowered() -> None:
    with pytest.raises(ValidationError, match=r"media_limits\.image is 200 MB, above the maximum"):
        MediaLimits(image=200 * MB)


def test_file_media_size_is_checked_without_reading(tmp_path: Path) -> None:
    clip = tmp_path / "clip.webm"
    clip.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 60)
    media = media_from_path(clip)
    assert isinstance(media, VideoContent)
    assert media.format == "webm"
    assert media.size_bytes == 64
    assert media.load_bytes().startswith(b"\x1a\x45")
    with pytest.raises(ValidationError, match="video size limit"):
        media_from_path(clip, limits=MediaLimits(video=63))
    check_media_size(media, MediaLimits(video=64))


def test_media_from_path_kinds(tmp_path: Path) -> None:
    photo = tmp_path / "photo.JPG"
    photo.write_bytes(b"\xff\xd8\xff")
    assert media_from_path(photo).format == "jpeg"
    other = tmp_path / "notes.pdf"
    other.write_bytes(b"%PDF")
    binary = media_from_path(other)
    assert isinstance(binary, BinaryContent)
    assert binary.mime_type == "application/pdf"
    assert binary.filename == "notes.pdf"
    with pytest.raises(ValidationError, match="not a known audio format"):
        media_from_path(photo, kind="audio")
    with pytest.raises(ValidationError, match="is not a file"):
        media_from_path(tmp_path / "missing.png")


def test_metadata_is_typed_and_checked() -> None:
    image = parse_media(
        {
            "type": "image",
            "data": PNG,
            "format": "png",
            "metadata": {"width": 4, "height": 3, "color_space": "sRGB", "alt": "tiny"},
        }
    )
    assert (image.metadata.width, image.metadata.height) == (4, 3)
    audio = parse_media(
        {"type": "audio", "data": b"x", "format": "wav", "metadata": {"sample_rate": 16000}}
    )
    assert audio.metadata.sample_rate == 16000
    with pytest.raises(ValidationError, match=r"metadata\.fps"):
        parse_media({"type": "video", "data": b"x", "format": "mp4", "metadata": {"fps": -1}})


def test_image_becomes_a_chat_content_part(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(PNG)
    part = media_from_path(path).to_part()
    assert part.data == PNG
    assert part.mime_type == "image/png"
    assert part.data_url() == "data:image/png;base64," + base64.b64encode(PNG).decode()
    linked = ImageContent(url="https://x.invalid/a.gif", format="gif").to_part()
    assert linked.data_url() == "https://x.invalid/a.gif"


def test_agent_input_from_string_and_table() -> None:
    assert AgentInput.from_data("hi").text == "hi"
    value = AgentInput.from_data(
        {
            "text": "look",
            "media": [{"type": "image", "data": PNG, "format": "png"}],
            "parameters": {"temperature": 0},
            "output_modalities": ["text"],
        }
    )
    assert len(value.images) == 1
    with pytest.raises(ValidationError, match=r"input\.media\[0\]\.image\.format"):
        AgentInput.from_data({"media": [{"type": "image", "data": b"x", "format": "bmp"}]})
    with pytest.raises(ValidationError, match=r"input\.output_modalities\[0\]"):
        AgentInput.from_data({"output_modalities": ["smell"]})
    with pytest.raises(ValidationError, match=r"input\.txt: Extra inputs"):
        AgentInput.from_data({"txt": "typo"})


def test_agent_chunk_plain_data() -> None:
    chunk = AgentChunk(stream_id="s1", chunk_index=0, content=TextContent(text="Hel"))
    data = chunk.to_data()
    assert data["text"] == "Hel"
    assert data["content"] == {"type": "text", "text": "Hel"}
    assert chunk.text == "Hel"
    progress = AgentChunk(
        stream_id="s1",
        chunk_index=1,
        content=ToolCallProgress(tool_id="c1", partial_args='{"a'),
    ).to_data()
    assert "text" not in progress
    assert progress["content"]["type"] == "tool_call_progress"
    done = AgentChunk(
        stream_id="s1", chunk_index=2, content=ToolCallComplete(tool_id="c1", result={"x": 1})
    )
    assert done.to_data()["content"]["result"] == {"x": 1}
    control = AgentChunk(stream_id="s1", chunk_index=3, content=ControlChunk(signal="end"))
    assert control.to_data()["content"] == {"type": "control", "signal": "end", "data": {}}
    media = AgentChunk.model_validate(
        {
            "stream_id": "s",
            "chunk_index": 4,
            "content": {"type": "media", "media": {"type": "image", "data": PNG, "format": "png"}},
        }
    )
    dumped = media.to_data()["content"]["media"]
    assert base64.b64decode(dumped["data"]) == PNG


def test_agent_output_plain_data() -> None:
    out = AgentOutput(
        text="4",
        tool_calls=[ToolCall(id="c", name="calculator", arguments={"input": "2+2"})],
        metadata={"model": "m", "input_tokens": 3},
    )
    data = out.to_data()
    assert data["tool_calls"][0]["arguments"] == {"input": "2+2"}
    assert data["metadata"]["input_tokens"] == 3


def test_chat_message_helpers() -> None:
    image = ImagePart(data=PNG)
    message = ChatMessage.user("what is it", [image])
    assert message.has_images
    assert message.text == "what is it"
    assert not ChatMessage.user("plain").has_images
    with pytest.raises(ValueError, match="exactly one of 'data' or 'url'"):
        ImagePart()


def test_capabilities_media_types() -> None:
    assert Capabilities(vision=True).media_types == ["text", "image"]
    assert Capabilities().media_types == ["text"]


def test_accumulator_builds_a_response() -> None:
    acc = StreamAccumulator(provider="p", model="m")
    for event in (TextDelta("a"), TextDelta("b"), StreamFinish("stop", Usage(output_tokens=2))):
        acc.add(event)
    response = acc.response()
    assert (response.text, response.finish_reason, response.model) == ("ab", "stop", "m")
    assert response.usage.output_tokens == 2


def test_usage_adds_up() -> None:
    total = Usage(input_tokens=1, output_tokens=2, total_tokens=3) + Usage(
        input_tokens=10, output_tokens=20, total_tokens=30
    )
    assert total == Usage(input_tokens=11, output_tokens=22, total_tokens=33)
