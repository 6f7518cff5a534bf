"""The outcome of one script run, as the Host API and the CLI report it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmspell.core.errors import ScriptError, exit_code_for

ERROR_KINDS = (
    "syntax",
    "runtime",
    "timeout",
    "memory",
    "output_limit",
    "sandbox_violation",
    "cancelled",
    "killed",
)


@dataclass
class RunResult:
    status: str
    error_kind: str | None = None
    error: str | None = None
    value: Any = None
    output: str = ""
    stderr: str = ""
    duration_ms: float = 0.0
    execution_id: str = ""
    exit_code: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def raise_for_status(self) -> RunResult:
        """Raise ``ScriptError`` (with the error kind) unless the run ended ok."""
        if self.status != "ok":
            raise ScriptError(self.error or "script failed", self.error_kind or "runtime")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``--output json`` prints."""
        return {
            "status": self.status,
            "error_kind": self.error_kind,
            "error": self.error,
            "value": self.value,
            "output": self.output,
            "duration_ms": round(self.duration_ms, 3),
            "execution_id": self.execution_id,
            "metrics": dict(self.metrics),
        }

    @property
    def cli_exit_code(self) -> int:
        """The CLI exit status: the script's own ``os.exit`` code, else its outcome class."""
        if self.exit_code:
            return self.exit_code
        return exit_code_for(self.error_kind)
