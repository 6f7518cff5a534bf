"""The hook points around an agent call, with the hook results they honour.

``BeforeAgentExecution`` may change the input, skip the call (a replacement answer is returned
instead), cancel it or ask for a retry; ``AfterAgentExecution`` may change or replace the output
or ask for a retry; ``AgentError`` may recover with a replacement answer or ask for a retry.
A retry starts the call over from ``BeforeAgentExecution``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmspell.agents.collaborators import HookRunner
from llmspell.core.errors import Cancelled
from llmspell.events import HookRetry, HookSkip

BEFORE = "BeforeAgentExecution"
AFTER = "AfterAgentExecution"
ERROR = "AgentError"


@dataclass(frozen=True, slots=True)
class Replacement:
    """A hook skipped or replaced the call; ``value`` stands in for the agent's output."""

    value: Any


class RetryRequest(Exception):
    """A hook asked to run the call again; carries the error or output of the attempt that
    led to it, which stands when no retry is left."""

    def __init__(
        self,
        retry: HookRetry,
        *,
        error: Exception | None = None,
        output: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(retry))
        self.delay = retry.delay
        self.attempts = retry.attempts
        self.point = retry.point
        self.hook = retry.hook
        self.error = error
        self.output = output

    def give_up(self) -> dict[str, Any]:
        """What the call ends with once its retries are spent."""
        if self.error is not None:
            raise self.error
        if self.output is not None:
            return self.output
        raise Cancelled(
            f"{self.point}: hook '{self.hook}' asked for more retries than allowed "
            f"({self.attempts})"
        )


async def fire(
    hooks: HookRunner,
    point: str,
    data: dict[str, Any],
    *,
    error: Exception | None = None,
    output: dict[str, Any] | None = None,
) -> dict[str, Any] | Replacement:
    """The data as the hooks of ``point`` left it, or the ``Replacement`` one of them chose.

    Raises ``RetryRequest`` for a retry and ``Cancelled`` for a cancel."""
    try:
        return await hooks.fire(point, data)
    except HookSkip as skip:
        return Replacement(skip.result)
    except HookRetry as retry:
        raise RetryRequest(retry, error=error, output=output) from None
