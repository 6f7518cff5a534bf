"""The data types shared by providers, agents and the Lua layer.

Requests, responses, agent input/output and media are pydantic models: they validate plain data
coming from scripts and configuration, and ``model_dump()`` gives plain data back. The stream
events a provider yields are slotted dataclasses instead, because one is built for every token.

This module imports pydantic, so modules on a script's startup path import it lazily.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, TypeAlias

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from llmspell.core.errors import ValidationError

MB = 1024 * 1024
GB = 1024 * MB

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")


# --- chat messages -----------------------------------------------------------------------------


class TextPart(_Model):
    """A text piece of a multi-part message."""

    type: Literal["text"] = "text"
    text: str


class ImagePart(_Model):
    """An image piece of a multi-part message: raw bytes or a URL, never both."""

    type: Literal["image"] = "image"
    data: bytes | None = None
    url: str | None = None
    mime_type: str = "image/png"
    detail: Literal["auto", "low", "high"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.data is None) == (self.url is None):
            raise ValueError("an image part needs exactly one of 'data' or 'url'")
        return self

    def data_url(self) -> str:
        """The image as an http(s) URL or a ``data:`` URL (what vision APIs accept)."""
        if self.url is not None:
            return self.url
        assert self.data is not None
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"


ContentPart: TypeAlias = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class ToolSpec(_Model):
    """A tool offered to the model; ``parameters`` is a JSON schema of its arguments."""

    name: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolCall(_Model):
    """A tool call the model asked for. ``raw_arguments`` is the JSON text as received."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str = ""


class ChatMessage(_Model):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    @classmethod
    def system(cls, text: str) -> ChatMessage:
        return cls(role="system", content=text)

    @classmethod
    def user(cls, text: str, images: list[ImagePart] | None = None) -> ChatMessage:
        """A user message; with images it becomes a multi-part message (text first)."""
        if not images:
            return cls(role="user", content=text)
        parts: list[TextPart | ImagePart] = [TextPart(text=text)] if text else []
        parts.extend(images)
        return cls(role="user", content=parts)

    @classmethod
    def assistant(cls, text: str | None, tool_calls: list[ToolCall] | None = None) -> ChatMessage:
        return cls(role="assistant", content=text, tool_calls=tool_calls or None)

    @classmethod
    def tool(cls, tool_call_id: str, content: str, name: str | None = None) -> ChatMessage:
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)

    @property
    def text(self) -> str:
        """The message's text, multi-part text pieces joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def has_images(self) -> bool:
        return isinstance(self.content, list) and any(
            isinstance(p, ImagePart) for p in self.content
        )


class Usage(_Model):
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=0, ge=0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class ChatRequest(_Model):
    """One chat completion request. An empty ``model`` means the provider's default model.

    ``extra`` holds provider-specific fields passed through unchanged (e.g. ``seed``).
    """

    model: str = ""
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["auto", "none", "required"] | dict[str, Any] | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0)
    response_format: dict[str, Any] | None = None
    stop: list[str] | None = None
    stream: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def has_images(self) -> bool:
        return any(m.has_images for m in self.messages)


class ChatResponse(_Model):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None
    model: str = ""
    provider: str = ""
    cost_usd: float | None = None
    raw: dict[str, Any] | None = None


# --- stream events (one per chunk: slotted dataclasses, no validation) -------------------------


@dataclass(slots=True, frozen=True)
class TextDelta:
    """A piece of the answer's text."""

    text: str
    kind: ClassVar[str] = "text"


@dataclass(slots=True, frozen=True)
class ToolCallDelta:
    """A piece of a tool call: ``index`` tells which call; ``id`` and ``name`` come first,
    ``arguments`` is the next fragment of the JSON argument text."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    kind: ClassVar[str] = "tool_call"


@dataclass(slots=True, frozen=True)
class StreamFinish:
    """The last event of every stream; ``tool_calls`` are the calls assembled from the deltas."""

    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    model: str = ""
    cost_usd: float | None = None
    kind: ClassVar[str] = "finish"


StreamEvent: TypeAlias = TextDelta | ToolCallDelta | StreamFinish


# --- capabilities ------------------------------------------------------------------------------


class Capabilities(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    streaming: bool = True
    tools: bool = False
    vision: bool = False
    max_context_tokens: int | None = Field(default=None, gt=0)
    models: list[str] = Field(default_factory=list)

    @property
    def media_types(self) -> list[str]:
        """The kinds of media a request to this provider may carry."""
        return ["text", "image"] if self.vision else ["text"]


# --- media -------------------------------------------------------------------------------------

ImageFormat: TypeAlias = Literal["png", "jpeg", "webp", "gif", "svg", "tiff"]
AudioFormat: TypeAlias = Literal["mp3", "wav", "flac", "ogg", "m4a"]
VideoFormat: TypeAlias = Literal["mp4", "webm", "avi", "mov", "mkv"]

MIME_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "tiff": "image/tiff",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
}
_FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff", "svg+xml": "svg", "mpeg": "mp3", "oga": "ogg"}
_MEDIA_KIND_BY_FORMAT: dict[str, str] = {
    **dict.fromkeys(("png", "jpeg", "webp", "gif", "svg", "tiff"), "image"),
    **dict.fromkeys(("mp3", "wav", "flac", "ogg", "m4a"), "audio"),
    **dict.fromkeys(("mp4", "webm", "avi", "mov", "mkv"), "video"),
}


class MediaLimits(_Model):
    """Largest accepted size in bytes per media kind. Defaults are the maximums; a
    configuration may set lower values, never higher."""

    MAXIMUMS: ClassVar[dict[str, int]] = {
        "image": 100 * MB,
        "audio": 500 * MB,
        "video": 5 * GB,
        "binary": 1 * GB,
    }

    image: int = Field(default=100 * MB, gt=0)
    audio: int = Field(default=500 * MB, gt=0)
    video: int = Field(default=5 * GB, gt=0)
    binary: int = Field(default=1 * GB, gt=0)

    @model_validator(mode="after")
    def _not_above_maximum(self) -> Self:
        for kind, maximum in self.MAXIMUMS.items():
            value = getattr(self, kind)
            if value > maximum:
                raise ValidationError(
                    f"media_limits.{kind} is {_human(value)}, above the maximum {_human(maximum)}"
                )
        return self

    def for_kind(self, kind: str) -> int:
        return int(getattr(self, kind))


DEFAULT_MEDIA_LIMITS = MediaLimits()
MEDIA_LIMITS_CONTEXT_KEY = "media_limits"
"""Key of the pydantic validation context that carries a lower ``MediaLimits``."""


def _human(size: int) -> str:
    if size >= GB and size % GB == 0:
        return f"{size // GB} GB"
    if size >= MB:
        return f"{size / MB:g} MB" if size % MB else f"{size // MB} MB"
    return f"{size} bytes"


def _normalize_format(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower().lstrip(".")
        if "/" in lowered:
            lowered = lowered.split("/", 1)[1]
        return _FORMAT_ALIASES.get(lowered, lowered)
    return value


def _decode_base64_input(value: Any) -> Any:
    """Accept ``base64=...`` as another spelling of ``data`` (what scripts pass)."""
    if isinstance(value, Mapping) and "base64" in value:
        data = dict(value)
        encoded = data.pop("base64")
        if data.get("data") is not None:
            raise ValueError("give either 'data' or 'base64', not both")
        if not isinstance(encoded, str | bytes):
            raise ValueError("'base64' must be a string")
        try:
            data["data"] = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ValueError("'base64' is not valid base64 text") from None
        return data
    return value


class _SizedMedia(_Model):
    """Media held as bytes (``data``), a file (``path``) or a link (``url``): exactly one."""

    media_kind: ClassVar[str] = "binary"

    data: bytes | None = None
    path: str | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _base64(cls, value: Any) -> Any:
        return _decode_base64_input(value)

    @model_validator(mode="after")
    def _source_and_size(self, info: ValidationInfo) -> Self:
        given = [n for n in ("data", "path", "url") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                f"{self.media_kind} media needs exactly one of 'data', 'base64', 'path' or 'url'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        limits = DEFAULT_MEDIA_LIMITS
        if info.context and isinstance(info.context.get(MEDIA_LIMITS_CONTEXT_KEY), MediaLimits):
            limits = info.context[MEDIA_LIMITS_CONTEXT_KEY]
        check_media_size(self, limits)
        return self

    @property
    def size_bytes(self) -> int | None:
        """Size of the bytes or file; ``None`` for a URL or a missing file."""
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            try:
                return os.stat(self.path).st_size
            except OSError:
                return None
        return None

    def load_bytes(self) -> bytes:
        """The content as bytes (reads ``path`` when needed). URLs are not fetched."""
        if self.data is not None:
            return self.data
        if self.path is not None:
            try:
                return Path(self.path).read_bytes()
            except OSError as exc:
                raise ValidationError(
                    f"{self.media_kind} media path '{self.path}' cannot be read: {exc.strerror}"
                ) from None
        raise ValidationError(f"{self.media_kind} media at url '{self.url}' has no local bytes")


def check_media_size(media: _SizedMedia, limits: MediaLimits = DEFAULT_MEDIA_LIMITS) -> None:
    """Raise ``ValidationError`` naming the limit when ``media`` is larger than it."""
    size = media.size_bytes
    limit = limits.for_kind(media.media_kind)
    if size is not None and size > limit:
        raise ValidationError(
            f"{media.media_kind} is {_human(size)}, over the {media.media_kind} size limit of "
            f"{_human(limit)} (media_limits.{media.media_kind})"
        )


class ImageMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    color_space: str | None = None
    bit_depth: int | None = Field(default=None, gt=0)


class AudioMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    duration_seconds: float | None = Field(default=None, ge=0)
    sample_rate: int | None = Field(default=None, gt=0)
    channels: int | None = Field(default=None, gt=0)
    bitrate: int | None = Field(default=None, gt=0)


class VideoMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    duration_seconds: float | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    fps: float | None = Field(default=None, gt=0)
    has_audio: bool | None = None


class TextMedia(_Model):
    type: Literal["text"] = "text"
    text: str


class ImageContent(_SizedMedia):
    media_kind: ClassVar[str] = "image"

    type: Literal["image"] = "image"
    format: Annotated[ImageFormat, BeforeValidator(_normalize_format)]
    metadata: ImageMetadata = Field(default_factory=ImageMetadata)

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]

    def to_part(self, detail: Literal["auto", "low", "high"] | None = None) -> ImagePart:
        """This image as a chat content part (reads the file when given by path)."""
        if self.url is not None:
            return ImagePart(url=self.url, mime_type=self.mime_type, detail=detail)
        return ImagePart(data=self.load_bytes(), mime_type=self.mime_type, detail=detail)


class AudioContent(_SizedMedia):
    media_kind: ClassVar[str] = "audio"

    type: Literal["audio"] = "audio"
    format: Annotated[AudioFormat, BeforeValidator(_normalize_format)]
    metadata: AudioMetadata = Field(default_factory=AudioMetadata)

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]


class VideoContent(_SizedMedia):
    media_kind: ClassVar[str] = "video"

    type: Literal["video"] = "video"
    format: Annotated[VideoFormat, BeforeValidator(_normalize_format)]
    metadata: VideoMetadata = Field(default_factory=VideoMetadata)

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]


class BinaryContent(_SizedMedia):
    media_kind: ClassVar[str] = "binary"

    type: Literal["binary"] = "binary"
    mime_type: str = "application/octet-stream"
    filename: str | None = None


MediaContent: TypeAlias = Annotated[
    TextMedia | ImageContent | AudioContent | VideoContent | BinaryContent,
    Field(discriminator="type"),
]
_MEDIA_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(MediaContent)


def validation_error(exc: pydantic.ValidationError, where: str) -> ValidationError:
    """An llmspell ``ValidationError`` naming the first failing field of a pydantic error."""
    first = exc.errors(include_url=False)[0]
    place = where
    for part in first["loc"]:
        place += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ValidationError(f"{place}: {message}{more}")


def parse_media(value: Mapping[str, Any] | BaseModel, limits: MediaLimits | None = None) -> Any:
    """Validate plain data (``{type="image", base64=..., format="png"}``) into ``MediaContent``.

    Raises ``ValidationError`` naming the field or the size limit that failed.
    """
    if isinstance(value, BaseModel):
        value = value.model_dump()
    context = {MEDIA_LIMITS_CONTEXT_KEY: limits or DEFAULT_MEDIA_LIMITS}
    try:
        return _MEDIA_ADAPTER.validate_python(value, context=context)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, "media") from None


def media_from_path(
    path: str | os.PathLike[str],
    *,
    kind: Literal["image", "audio", "video", "binary"] | None = None,
    limits: MediaLimits | None = None,
) -> Any:
    """Media referring to a file, its kind and format taken from the file's extension.

    Unknown extensions become ``binary`` with the guessed MIME type.
    """
    text_path = os.fspath(path)
    if not os.path.isfile(text_path):
        raise ValidationError(f"media path '{text_path}' is not a file")
    fmt = _normalize_format(Path(text_path).suffix)
    detected = _MEDIA_KIND_BY_FORMAT.get(fmt, "binary")
    chosen = kind or detected
    data: dict[str, Any] = {"type": chosen, "path": text_path}
    if chosen == "binary":
        data["mime_type"] = mimetypes.guess_type(text_path)[0] or "application/octet-stream"
        data["filename"] = Path(text_path).name
    elif chosen != detected:
        raise ValidationError(
            f"media path '{text_path}': extension '{Path(text_path).suffix}' is not a known "
            f"{chosen} format"
        )
    else:
        data["format"] = fmt
    return parse_media(data, limits)


# --- agent input, output and stream chunks -----------------------------------------------------

OutputModality: TypeAlias = Literal["text", "image", "audio", "video", "binary"]


def _text_only() -> list[OutputModality]:
    return ["text"]


class AgentInput(_Model):
    text: str = ""
    media: list[MediaContent] = Field(default_factory=list)
    context: dict[str, Any] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_modalities: list[OutputModality] = Field(default_factory=_text_only)

    @classmethod
    def from_data(
        cls, value: str | Mapping[str, Any], limits: MediaLimits | None = None
    ) -> AgentInput:
        """Build from a string or a table-shaped mapping; errors name the failing field."""
        if isinstance(value, str):
            return cls(text=value)
        context = {MEDIA_LIMITS_CONTEXT_KEY: limits or DEFAULT_MEDIA_LIMITS}
        try:
            return cls.model_validate(dict(value), context=context)
        except pydantic.ValidationError as exc:
            raise validation_error(exc, "input") from None

    @property
    def images(self) -> list[ImageContent]:
        return [m for m in self.media if isinstance(m, ImageContent)]


class AgentOutput(_Model):
    """What an agent call returns; ``metadata`` holds model, provider, tokens, cost, duration."""

    text: str = ""
    media: list[MediaContent] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class TextContent(_Model):
    type: Literal["text"] = "text"
    text: str


class ToolCallProgress(_Model):
    type: Literal["tool_call_progress"] = "tool_call_progress"
    tool_id: str
    partial_args: str
    name: str | None = None


class ToolCallComplete(_Model):
    type: Literal["tool_call_complete"] = "tool_call_complete"
    tool_id: str
    result: Any = None
    name: str | None = None


class MediaChunk(_Model):
    type: Literal["media"] = "media"
    media: MediaContent


class ControlChunk(_Model):
    """Stream control: ``signal`` is e.g. ``start``, ``end``, ``error`` or ``heartbeat``."""

    type: Literal["control"] = "control"
    signal: str
    data: dict[str, Any] = Field(default_factory=dict)


ChunkContent: TypeAlias = Annotated[
    TextContent | ToolCallProgress | ToolCallComplete | MediaChunk | ControlChunk,
    Field(discriminator="type"),
]


class AgentChunk(_Model):
    stream_id: str
    chunk_index: int = Field(ge=0)
    content: ChunkContent
    metadata: dict[str, Any] = Field(default_factory=dict)
    timestamp: float = Field(default_factory=time.time)

    @property
    def text(self) -> str | None:
        return self.content.text if isinstance(self.content, TextContent) else None

    def to_data(self) -> dict[str, Any]:
        """The chunk as the spec shows it to scripts (``text`` set for text chunks)."""
        data: dict[str, Any] = {
            "stream_id": self.stream_id,
            "chunk_index": self.chunk_index,
            "content": self.content.model_dump(mode="json"),
            "metadata": self.metadata,
            "timestamp": self.timestamp,
        }
        if isinstance(self.content, TextContent):
            data["text"] = self.content.text
        return data


@dataclass(slots=True)
class StreamAccumulator:
    """Builds a ``ChatResponse`` from stream events (text joined, tool calls from the finish)."""

    provider: str = ""
    model: str = ""
    parts: list[str] = field(default_factory=list)
    finish: StreamFinish | None = None

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self.parts.append(event.text)
        elif isinstance(event, StreamFinish):
            self.finish = event

    def response(self) -> ChatResponse:
        finish = self.finish or StreamFinish()
        return ChatResponse(
            text="".join(self.parts),
            tool_calls=list(finish.tool_calls),
            usage=finish.usage or Usage(),
            finish_reason=finish.finish_reason,
            model=finish.model or self.model,
            provider=self.provider,
            cost_usd=finish.cost_usd,
        )
