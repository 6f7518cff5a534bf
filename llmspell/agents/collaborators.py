"""What an agent may be given besides its provider: each is optional and duck-typed.

An agent works without any of them. The host wires in the run's event bus, hook registry,
context manager, budget, conversation store, tool access and file reader.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from llmspell.agents.agent import Agent
    from llmspell.core.types import ChatMessage, ToolSpec

ReadFile = Callable[[str], bytes]
"""``read_file(path) -> bytes``: how path-based media are read (the caller checks permissions)."""


class EventSink(Protocol):
    """Receives ``agent.execution.started|completed|failed`` and ``agent.tool.called``."""

    def publish(self, type: str, data: dict[str, Any]) -> None: ...


class HookRunner(Protocol):
    """Runs the hooks of a point (``BeforeAgentExecution``, ``AfterAgentExecution``,
    ``AgentError``); returns the data, possibly modified, or raises ``Cancelled``."""

    async def fire(self, point: str, data: dict[str, Any]) -> dict[str, Any]: ...


class ContextManager(Protocol):
    """Fits the messages of each request into the model's context window
    (``llmspell.agents.context.ContextManager``)."""

    async def prepare(self, messages: list[ChatMessage], agent: Agent) -> list[ChatMessage]:
        """The messages to send for this request."""
        ...

    async def summarize(self, messages: list[ChatMessage], agent: Agent) -> list[ChatMessage]:
        """Summarise the older turns now; the shortened messages."""
        ...

    def record_usage(
        self,
        prompt: Sequence[ChatMessage],
        input_tokens: int,
        reply: ChatMessage | None = None,
        output_tokens: int = 0,
    ) -> None:
        """Exact token counts reported by the provider for a request and its reply."""
        ...


class Budget(Protocol):
    """Checked before every model request and charged after every response; both raise
    ``BudgetExceeded`` when over budget (``llmspell.agents.budget.AgentBudget``)."""

    def check(self) -> None: ...

    def charge(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None: ...


class ConversationStore(Protocol):
    """Keeps an agent's history across runs (e.g. in the current session)."""

    def load(self, agent_name: str) -> list[dict[str, Any]]: ...

    def append(self, agent_name: str, messages: list[dict[str, Any]]) -> None: ...


class ToolInvoker(Protocol):
    """The agent's way to the tool layer (``RegistryToolInvoker`` adapts the ``ToolRegistry``).

    ``invoke`` returns the tool result as plain data ``{success, result, text, ...}`` or raises
    an ``LlmspellError``.
    """

    async def specs(self, names: list[str]) -> list[ToolSpec]: ...

    async def invoke(self, name: str, params: dict[str, Any]) -> dict[str, Any]: ...
