"""An agent's conversation: the messages after the system prompt, bounded in length."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pydantic

from llmspell.core.errors import ValidationError
from llmspell.core.types import ChatMessage, validation_error


class ConversationHistory:
    """User, assistant and tool messages, oldest first, at most ``limit`` of them.

    Trimming drops the oldest messages, then any tool result left at the front without the
    assistant message that asked for it (models reject such orphans). The system prompt is not
    part of the history, so it is never trimmed.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._messages: list[ChatMessage] = []

    def __len__(self) -> int:
        return len(self._messages)

    @property
    def messages(self) -> list[ChatMessage]:
        """A copy of the messages, oldest first."""
        return list(self._messages)

    def extend(self, messages: Iterable[ChatMessage]) -> None:
        self._messages.extend(messages)
        self._trim()

    def replace(self, messages: Iterable[ChatMessage]) -> None:
        self._messages = list(messages)
        self._trim()

    def clear(self) -> None:
        self._messages.clear()

    def to_data(self) -> list[dict[str, Any]]:
        return messages_to_data(self._messages)

    def _trim(self) -> None:
        if self.limit is not None and len(self._messages) > self.limit:
            del self._messages[: len(self._messages) - self.limit]
        start = 0
        while start < len(self._messages) and self._messages[start].role == "tool":
            start += 1
        if start:
            del self._messages[:start]


def messages_to_data(messages: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as JSON-shaped tables (``{role, content, tool_calls?, tool_call_id?}``)."""
    return [m.model_dump(mode="json", exclude_none=True) for m in messages]


def messages_from_data(items: Any, where: str) -> list[ChatMessage]:
    """Messages from JSON-shaped tables; ``ValidationError`` names the failing entry and field."""
    if not isinstance(items, list | tuple):
        raise ValidationError(f"{where}: must be a list of messages, got {type(items).__name__}")
    messages = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValidationError(f"{where}[{index}]: must be a message table")
        try:
            messages.append(ChatMessage.model_validate(dict(item)))
        except pydantic.ValidationError as exc:
            raise validation_error(exc, f"{where}[{index}]") from None
    return messages
