"""An agent's conversation kept in a session, so the next run (or chat) continues it.

``SessionMemory`` adapts the store's ``ConversationStore`` (keyed by session and agent) to the
agent's ``conversation_store`` collaborator (keyed by agent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmspell.state.conversations import ConversationStore


class SessionMemory:
    """The conversations of the agents of one session."""

    def __init__(self, conversations: ConversationStore, session_id: str) -> None:
        self.conversations = conversations
        self.session_id = session_id

    def load(self, agent_name: str) -> list[dict[str, Any]]:
        return self.conversations.load(self.session_id, agent_name)

    def append(self, agent_name: str, messages: list[dict[str, Any]]) -> None:
        self.conversations.append(self.session_id, agent_name, messages)

    def clear(self, agent_name: str) -> int:
        """Forget the agent's stored conversation; how many entries were removed."""
        return self.conversations.clear(self.session_id, agent_name)
