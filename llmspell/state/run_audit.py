"""The audit trail of one run: its tool and agent calls, appended to the audit log.

``RunAudit`` tags every record with the run id and the run's current session (read at each
call: a script may switch sessions). A record that cannot be written (a read-only database, a
database from a newer llmspell) does not stop the call it describes: the first such failure is
reported through ``warn`` and the run goes on.

``AuditedEvents`` is the event sink an agent gets: it publishes to the run's bus and appends one
audit record when an agent call ends (``agent.execution.completed`` or ``failed``), with the
input the call was started with.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import LlmspellError

if TYPE_CHECKING:
    from llmspell.events import EventBus
    from llmspell.state.audit import AuditLog
    from llmspell.state.store import Store

MAX_OUTCOME = 500
"""Longest outcome text kept (an error message is cut after this many characters)."""


class RunAudit:
    """Appends records for one run to the audit log of ``store()`` (opened on first use)."""

    def __init__(
        self,
        store: Callable[[], Store],
        run_id: str | None,
        *,
        session: Callable[[], str | None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self._store = store
        self._session = session
        self._warn = warn
        self._log: AuditLog | None = None
        self._warned = False

    def record(
        self,
        action: str,
        *,
        actor: str,
        outcome: str,
        arguments: Any = None,
        duration_ms: float | None = None,
    ) -> None:
        """Append one record, e.g. ``record("tool.execute", actor="tool:calculator",
        outcome="success", arguments={"params": {...}}, duration_ms=1.2)``."""
        try:
            if self._log is None:
                from llmspell.state.audit import AuditLog

                self._log = AuditLog(self._store())
            self._log.append(
                action,
                actor=actor,
                outcome=outcome,
                arguments=arguments,
                run_id=self.run_id,
                session_id=None if self._session is None else self._session(),
                duration_ms=duration_ms,
            )
        except (LlmspellError, sqlite3.Error) as exc:
            if not self._warned and self._warn is not None:
                self._warned = True
                self._warn(f"warning: audit records of run {self.run_id} not written: {exc}\n")


def outcome_of(error: BaseException | None) -> str:
    """``success``, or ``error: Kind: message`` (shortened) for a failed call."""
    if error is None:
        return "success"
    text = error.lua_message() if isinstance(error, LlmspellError) else str(error)
    return _error_outcome(text or type(error).__name__)


def _error_outcome(text: str) -> str:
    return f"error: {text[:MAX_OUTCOME]}{'…' if len(text) > MAX_OUTCOME else ''}"


_STARTED = "agent.execution.started"
_ENDED = ("agent.execution.completed", "agent.execution.failed")


class AuditedEvents:
    """An agent's event sink: events go to ``bus``; each ended call becomes an audit record."""

    def __init__(self, bus: EventBus, audit: RunAudit) -> None:
        self.bus = bus
        self.audit = audit
        self._calls: dict[Any, dict[str, Any]] = {}

    def publish(self, type: str, data: dict[str, Any]) -> None:
        self.bus.publish(type, data)
        if type == _STARTED:
            self._calls[data.get("execution_id")] = {
                key: data.get(key) for key in ("input", "provider", "model", "execution_id")
            }
        elif type in _ENDED:
            arguments = self._calls.pop(data.get("execution_id"), None) or {
                "execution_id": data.get("execution_id")
            }
            self.audit.record(
                "agent.execute",
                actor=f"agent:{data.get('agent')}",
                outcome=_agent_outcome(data),
                arguments={**arguments, **_usage(data)},
                duration_ms=data.get("duration_ms"),
            )


def _agent_outcome(data: Mapping[str, Any]) -> str:
    error = data.get("error")
    return "success" if error is None else _error_outcome(str(error))


def _usage(data: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("input_tokens", "output_tokens", "cost_usd", "tool_call_count")
    return {key: data[key] for key in keys if data.get(key) is not None}
