"""The one error hierarchy of llmspell.

Every error has a stable ``kind`` (the prefix of the Lua error message, e.g.
``ToolNotFound: tool 'x' not found``) and an ``error_kind``: the class of run outcome it
produces when a script does not catch it (``runtime``, ``timeout``, ``memory`` ...), which
the CLI maps to its exit status.
"""

from __future__ import annotations

EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "syntax": 1,
    "runtime": 1,
    "usage": 2,
    "config": 2,
    "timeout": 3,
    "memory": 4,
    "sandbox_violation": 5,
    "output_limit": 5,
    "cancelled": 130,
    "killed": 137,
}
"""CLI exit status for each run outcome class (documented in docs/cli.md)."""


class LlmspellError(Exception):
    """Base of every error llmspell raises on purpose."""

    kind: str = "Error"
    error_kind: str = "runtime"

    def lua_message(self) -> str:
        """The message a Lua script sees: ``Kind: text``."""
        return f"{self.kind}: {self}"


class ConfigError(LlmspellError):
    """Invalid configuration: names the file, the key and what was expected."""

    kind = "ConfigError"
    error_kind = "config"


class ValidationError(LlmspellError):
    """Bad input to a call: names the parameter that failed and what was expected."""

    kind = "ValidationError"


class NotFoundError(LlmspellError):
    kind = "NotFound"


class ToolNotFound(NotFoundError):
    kind = "ToolNotFound"


class ToolError(LlmspellError):
    kind = "ToolError"


class PermissionDenied(LlmspellError):
    """A call the configured permissions do not allow; the message names the rule."""

    kind = "PermissionDenied"
    error_kind = "sandbox_violation"


class SandboxViolation(LlmspellError):
    """A script tried to reach something the sandbox does not offer."""

    kind = "SandboxViolation"
    error_kind = "sandbox_violation"


class ProviderError(LlmspellError):
    """An LLM provider failed. ``retryable`` tells the retry policy whether to try again."""

    kind = "ProviderError"
    retryable: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationError(ProviderError):
    kind = "AuthenticationError"


class ModelNotFound(ProviderError):
    kind = "ModelNotFound"


class RateLimited(ProviderError):
    kind = "RateLimited"
    retryable = True


class ProviderUnavailable(ProviderError):
    """Connection refused, 5xx, or an open circuit breaker."""

    kind = "ProviderUnavailable"
    retryable = True


class ProviderTimeout(ProviderError):
    kind = "ProviderTimeout"
    retryable = True


class StreamInterrupted(ProviderError):
    kind = "StreamInterrupted"
    retryable = True


class StateError(LlmspellError):
    kind = "StateError"


class WorkflowError(LlmspellError):
    kind = "WorkflowError"


class BudgetExceeded(LlmspellError):
    kind = "BudgetExceeded"


class LimitExceeded(LlmspellError):
    """A run limit tripped; ``error_kind`` says which (timeout, memory, output_limit)."""

    kind = "LimitExceeded"

    def __init__(self, message: str, error_kind: str) -> None:
        super().__init__(message)
        self.error_kind = error_kind


class Cancelled(LlmspellError):
    kind = "Cancelled"
    error_kind = "cancelled"


class ScriptError(LlmspellError):
    """A script run that ended in error; raised by ``RunResult.raise_for_status``."""

    kind = "ScriptError"

    def __init__(self, message: str, error_kind: str) -> None:
        super().__init__(message)
        self.error_kind = error_kind


def exit_code_for(error_kind: str | None) -> int:
    """The CLI exit status for a run outcome class (``None`` means ok)."""
    if error_kind is None:
        return 0
    return EXIT_CODES.get(error_kind, 1)


class ModelFetchError(ProviderError):
    """Model weights could not be fetched, extracted or verified (names the source and why)."""

    kind = "ModelFetchError"


class HookError(LlmspellError):
    """A hook failed while hook failures are closed (``security.hook_failure = "closed"``)."""

    kind = "HookError"
