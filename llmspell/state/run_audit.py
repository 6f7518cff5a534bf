"""The audit trail of one run: its tool and agent calls, appended to the audit log.

``RunAudit`` tags every record with the run id and the run's current session (read at each
call: a script may switch sessions). A record that cannot be written (a read-only database, a
database from a newer llmspell) does not stop the call it describes: the first such failure is
reported through ``warn`` and the run goes on.

Records are made (timed, redacted, encoded) when the call ends and written in batches, one
transaction each: as soon as the event loop gets control (the run waits for anything), when
``FLUSH_RECORDS`` are waiting or the oldest has waited ``FLUSH_SECONDS`` (checked at each
record), and when the run ends (``flush``). One write per call cost more than the call itself;
the price is that a process killed outright (SIGKILL, power loss) loses the records it had not
written yet: those made since the run last waited, at most ``FLUSH_RECORDS`` of them.

``AuditedEvents`` is the event sink an agent gets: it publishes to the run's bus and appends one
audit record when an agent call ends (``agent.execution.completed`` or ``failed``), with the
input the call was started with.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import LlmspellError
from llmspell.state.audit import AuditLog, new_entry

if TYPE_CHECKING:
    from llmspell.events import EventBus
    from llmspell.state.store import Store

MAX_OUTCOME = 500
"""Longest outcome text kept (an error message is cut after this many characters)."""
FLUSH_RECORDS = 100
"""A run's records are written at the latest when this many are waiting..."""
FLUSH_SECONDS = 0.1
"""...or when a record is made this long after the oldest waiting one."""


class RunAudit:
    """Records for one run, written in batches to the audit log of ``store()`` (opened on
    first use)."""

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
        self._pending: list[dict[str, Any]] = []
        self._oldest = 0.0
        # Held while a batch is written, so that batches reach the log in the order made.
        self._lock = threading.Lock()

    def record(
        self,
        action: str,
        *,
        actor: str,
        outcome: str,
        arguments: Any = None,
        duration_ms: float | None = None,
    ) -> None:
        """Record one call, e.g. ``record("tool.execute", actor="tool:calculator",
        outcome="success", arguments={"params": {...}}, duration_ms=1.2)``; it is written with
        the next batch (see the module's docstring)."""
        try:
            entry = new_entry(
                action,
                actor=actor,
                outcome=outcome,
                arguments=arguments,
                run_id=self.run_id,
                session_id=None if self._session is None else self._session(),
                duration_ms=duration_ms,
            )
        except LlmspellError as exc:
            self._failed(exc)
            return
        now = time.monotonic()
        with self._lock:
            pending = self._pending
            pending.append(entry)
            if len(pending) == 1:
                self._oldest = now
            count, due = len(pending), now - self._oldest >= FLUSH_SECONDS
        if due or count >= FLUSH_RECORDS:
            self.flush()
        elif count == 1:
            self._flush_soon()

    def _flush_soon(self) -> None:
        """Flush when the event loop next gets control; at once when no loop is running."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
        else:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write the records made and not yet written (the run calls it when it ends)."""
        error: Exception | None = None
        with self._lock:
            entries, self._pending = self._pending, []
            if not entries:
                return
            try:
                if self._log is None:
                    self._log = AuditLog(self._store())
                self._log.append_entries(entries)
            except (LlmspellError, sqlite3.Error) as exc:
                error = exc
        if error is not None:
            self._failed(error)

    def _failed(self, exc: Exception) -> None:
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
