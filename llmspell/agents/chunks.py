"""Stream chunks as scripts see them, built as plain dicts (one per token, so no validation).

Every chunk is ``{stream_id, chunk_index, content = {type = ...}, metadata, timestamp}``; text
chunks also carry ``text``. The shapes are those of ``llmspell.core.types.AgentChunk.to_data``.
"""

from __future__ import annotations

import time
from typing import Any

Chunk = dict[str, Any]


class ChunkFactory:
    """Numbers the chunks of one stream and stamps them with its id and metadata."""

    __slots__ = ("index", "metadata", "stream_id")

    def __init__(self, stream_id: str, metadata: dict[str, Any]) -> None:
        self.stream_id = stream_id
        self.metadata = metadata
        self.index = 0

    def _chunk(self, content: dict[str, Any]) -> Chunk:
        chunk = {
            "stream_id": self.stream_id,
            "chunk_index": self.index,
            "content": content,
            "metadata": dict(self.metadata),
            "timestamp": time.time(),
        }
        self.index += 1
        return chunk

    def text(self, text: str) -> Chunk:
        chunk = self._chunk({"type": "text", "text": text})
        chunk["text"] = text
        return chunk

    def tool_call_progress(self, tool_id: str, name: str | None, partial_args: str) -> Chunk:
        """A fragment of a tool call's JSON arguments, as the model writes them."""
        return self._chunk(
            {
                "type": "tool_call_progress",
                "tool_id": tool_id,
                "name": name,
                "partial_args": partial_args,
            }
        )

    def tool_call_complete(self, tool_id: str, name: str, result: dict[str, Any]) -> Chunk:
        """A tool call that ran; ``result`` is the tool result or ``{success = false, error}``."""
        return self._chunk(
            {"type": "tool_call_complete", "tool_id": tool_id, "name": name, "result": result}
        )

    def control(self, signal: str, data: dict[str, Any]) -> Chunk:
        return self._chunk({"type": "control", "signal": signal, "data": data})
