"""The run record of every script run a ``Host`` executes, and cancel requests from outside.

The record is written to the store (``RunStore``) when the run starts and when it ends; its id is
the run's execution id. It names the run's session: the one it starts in, and the one it ends in
when the script moved (``Session.set_current``); the run's tokens and cost count there. While
the run goes on, the run's clock asks the store about once a second whether
``llmspell runs cancel ID`` asked it to stop.

Recording must not stop a script from running: when the store cannot be written (a read-only
folder, a database from a newer llmspell), the run goes on and a warning goes to its stderr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmspell.core.errors import LlmspellError

if TYPE_CHECKING:
    from llmspell.core.result import RunResult
    from llmspell.lua.run import ScriptRun
    from llmspell.services import Services

CANCEL_POLL_SECONDS = 1.0


class RunRecorder:
    """Writes run records into the host's store."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def begin(self, script: ScriptRun) -> bool:
        """Create the run's record (running) and watch it for cancel requests; False (and a
        warning on the run's stderr) when the store cannot be written."""
        try:
            runs = self._services.runs
            runs.create(
                script.run_kind,
                script=script.spec.name,
                args=script.spec.args or None,
                run_id=script.execution_id,
                session_id=script.context.session_id,
            )
            runs.start(script.execution_id)
        except LlmspellError as exc:
            script.output.write("stderr", f"warning: run not recorded: {exc}\n".encode())
            return False
        script.clock.watch(lambda: self._cancel_requested(script.execution_id), CANCEL_POLL_SECONDS)
        return True

    def end(self, script: ScriptRun, result: RunResult) -> None:
        """Record how the run ended, its token and cost totals (from ``result.metrics``,
        when the run reports them) and its session; a warning in ``result.stderr`` if that
        fails."""
        metrics = result.metrics
        try:
            runs = self._services.runs
            record = runs.finish(
                script.execution_id,
                _status(script, result),
                error=result.error,
                error_kind=result.error_kind,
                input_tokens=metrics.get("input_tokens"),
                output_tokens=metrics.get("output_tokens"),
                cost_usd=metrics.get("cost_usd"),
            )
            session_id = script.context.session_id
            if record["session_id"] != session_id:
                runs.set_session(script.execution_id, session_id)
        except LlmspellError as exc:
            result.stderr += f"warning: the end of run {script.execution_id} not recorded: {exc}\n"

    def abort(self, script: ScriptRun, exc: BaseException) -> None:
        """Record a run ended by an exception rather than a result: its awaiting task was
        cancelled, the process interrupted, or an internal error."""
        import asyncio

        if isinstance(exc, asyncio.CancelledError):
            status = "interrupted" if script.cancel_reason == "interrupted" else "cancelled"
            kind = "cancelled"
        elif isinstance(exc, (KeyboardInterrupt, SystemExit)):
            status, kind = "interrupted", "cancelled"
        else:
            status, kind = "failed", "runtime"
        try:
            self._services.runs.finish(
                script.execution_id, status, error=f"{type(exc).__name__}: {exc}", error_kind=kind
            )
        except LlmspellError:
            # The exception on its way out says more than a failure to record it would.
            return

    def _cancel_requested(self, run_id: str) -> bool:
        try:
            return self._services.runs.is_cancel_requested(run_id)
        except LlmspellError:
            return False


def _status(script: ScriptRun, result: RunResult) -> str:
    if result.ok:
        return "completed"
    if result.error_kind == "cancelled":
        return "interrupted" if script.cancel_reason == "interrupted" else "cancelled"
    return "failed"
