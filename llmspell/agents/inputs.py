"""Turning an agent's input (``"text"`` or ``{text, media, parameters, ...}``) into a request.

Everything here is checked before a request is sent: a model without vision never receives an
image, media of kinds chat requests cannot carry are refused, and files are read through the
caller's ``read_file`` (which applies the run's permissions) within the media size limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmspell.agents.collaborators import ReadFile
from llmspell.core.errors import PermissionDenied, ValidationError
from llmspell.core.types import (
    AgentInput,
    Capabilities,
    ChatMessage,
    ImageContent,
    ImagePart,
    MediaLimits,
    TextMedia,
    TextPart,
    parse_media,
)

REQUEST_PARAMETERS = ("temperature", "max_tokens", "stop", "response_format", "tool_choice")
"""Keys of ``input.parameters`` that set request fields; other keys go to the provider as is."""


def parse_input(value: Any, limits: MediaLimits | None) -> AgentInput:
    """Validate a script's input; it needs text or media."""
    if not isinstance(value, str | Mapping):
        raise ValidationError(f"input must be a string or a table, got {type(value).__name__}")
    agent_input = AgentInput.from_data(value, limits)
    if not agent_input.text and not agent_input.media:
        raise ValidationError("input: give text or media (both are empty)")
    return agent_input


def user_message(
    agent_input: AgentInput,
    *,
    agent: str,
    provider: str,
    capabilities: Capabilities,
    read_file: ReadFile | None,
    limits: MediaLimits | None,
) -> ChatMessage:
    """The user message of ``agent_input``: its text, then its media as content parts.

    Images are kept as ``data:`` URLs, so the message stays plain data in the history.
    """
    bad = [m for m in agent_input.output_modalities if m != "text"]
    if bad:
        raise ValidationError(
            f"input.output_modalities: agent '{agent}' can only produce text, not {bad[0]}"
        )
    if not agent_input.media:
        return ChatMessage.user(agent_input.text)
    parts: list[TextPart | ImagePart] = (
        [TextPart(text=agent_input.text)] if agent_input.text else []
    )
    for index, media in enumerate(agent_input.media):
        where = f"input.media[{index}]"
        if isinstance(media, TextMedia):
            parts.append(TextPart(text=media.text))
        elif isinstance(media, ImageContent):
            if not capabilities.vision:
                raise ValidationError(
                    f"{where}: agent '{agent}' uses provider '{provider}', whose model does not "
                    "accept images (no vision support)"
                )
            parts.append(_image_part(media, where, read_file, limits))
        else:
            raise ValidationError(
                f"{where}: agent '{agent}' cannot send {media.type} media to provider "
                f"'{provider}' (it accepts: {', '.join(capabilities.media_types)})"
            )
    return ChatMessage(role="user", content=parts)


def _image_part(
    image: ImageContent, where: str, read_file: ReadFile | None, limits: MediaLimits | None
) -> ImagePart:
    if image.url is not None:
        return ImagePart(url=image.url, mime_type=image.mime_type)
    data = image.data
    if data is None:
        assert image.path is not None
        data = _read(image.path, where, read_file)
        checked = parse_media({"type": "image", "data": data, "format": image.format}, limits)
        data = checked.data
    inline = ImagePart(data=data, mime_type=image.mime_type)
    return ImagePart(url=inline.data_url(), mime_type=image.mime_type)


def _read(path: str, where: str, read_file: ReadFile | None) -> bytes:
    if read_file is None:
        raise PermissionDenied(f"{where}: reading the image file '{path}' is not allowed here")
    try:
        return read_file(path)
    except OSError as exc:
        raise ValidationError(f"{where}: cannot read '{path}': {exc.strerror or exc}") from None


def request_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``input.parameters`` as ``ChatRequest`` fields, unknown keys gathered under ``extra``."""
    fields = {k: v for k, v in parameters.items() if k in REQUEST_PARAMETERS}
    extra = {k: v for k, v in parameters.items() if k not in REQUEST_PARAMETERS}
    if extra:
        fields["extra"] = extra
    return fields
