"""``ChatSession``: one interactive conversation with a model (``llmspell chat``).

The conversation is an agent named ``chat``. Its model can change mid-conversation (the history
is kept), and a conversation can be saved under a name and loaded again: saved chats are kept
in the State store, scope ``custom:chat``, as ``{model, system_prompt, history}``. Given a
``SessionMemory``, the conversation is also kept in a session, so a later chat continues it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from llmspell.agents.factory import build_agent

if TYPE_CHECKING:
    from llmspell.agents.agent import Agent
    from llmspell.agents.chunks import Chunk
    from llmspell.agents.session_memory import SessionMemory
    from llmspell.providers.registry import ProviderRegistry
    from llmspell.state.state import StateStore

AGENT_NAME = "chat"
SAVED_SCOPE = "custom:chat"


class ChatSession:
    def __init__(
        self,
        providers: ProviderRegistry,
        state: StateStore,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        memory: SessionMemory | None = None,
    ) -> None:
        self._providers = providers
        self._state = state
        self._memory = memory
        self.system_prompt = system_prompt
        self.agent = self._build(model, [])

    def _build(self, model: str | None, history: list[dict[str, Any]]) -> Agent:
        """An agent for ``model``: ``provider/model``, a model of the default provider, or a
        provider name alone (its default model)."""
        config: dict[str, Any] = {"name": AGENT_NAME, "system_prompt": self.system_prompt}
        if model and "/" not in model and self._providers.known(model):
            config["provider"] = model
        else:
            config["model"] = model
        agent = build_agent(config, self._providers, conversation_store=self._memory)
        if history and self._memory is None:
            agent.load_state({"history": history})
        return agent

    @property
    def model(self) -> str:
        """``provider/model`` of the agent answering now."""
        return f"{self.agent.provider.name}/{self.agent.model}"

    def stream(self, text: str) -> AsyncGenerator[Chunk, None]:
        """The reply to ``text``, chunk by chunk (close it to stop the reply early)."""
        return self.agent.stream(text)

    def history(self) -> list[dict[str, Any]]:
        return self.agent.get_history()

    async def set_model(self, model: str) -> None:
        """Answer with another model from now on, keeping the conversation."""
        agent = self._build(model, self.history())
        await self.agent.aclose()
        self.agent = agent

    def clear(self) -> None:
        """Forget the conversation (in the session too)."""
        self.agent.clear_history()
        if self._memory is not None:
            self._memory.clear(AGENT_NAME)

    def save(self, name: str) -> None:
        self._state.save(
            SAVED_SCOPE,
            name,
            {"model": self.model, "system_prompt": self.system_prompt, "history": self.history()},
        )

    def saved(self) -> list[str]:
        return self._state.list_keys(SAVED_SCOPE)

    async def load(self, name: str) -> bool:
        """Continue a saved conversation (its model, system prompt and history); false when
        nothing is saved under ``name``."""
        data = self._state.load(SAVED_SCOPE, name)
        if not isinstance(data, dict):
            return False
        history = list(data.get("history") or [])
        previous = self.system_prompt
        self.system_prompt = data.get("system_prompt")
        try:
            agent = self._build(data.get("model"), history)
        except Exception:
            self.system_prompt = previous
            raise
        if self._memory is not None:
            self._memory.clear(AGENT_NAME)
            self._memory.append(AGENT_NAME, history)
            agent.load_state({"history": history})
        await self.agent.aclose()
        self.agent = agent
        return True

    async def aclose(self) -> None:
        await self.agent.aclose()
        await self._providers.aclose()
