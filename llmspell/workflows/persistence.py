"""Workflow runs kept in the store: a run record for each run and a checkpoint after each step.

``WorkflowRunStore.execute`` runs a workflow under a run id: it creates the run record (or,
when resuming, starts the recorded run again), lets the executor append checkpoint records and
load its progress through ``checkpoint`` and ``load_checkpoint`` (the step services delegate
these two calls here), and records how the run ended. A run stopped by cancellation of the
awaiting task (Ctrl+C) is recorded ``interrupted`` and keeps its checkpoints; a killed process
leaves its run ``running`` until ``RunStore.mark_abandoned`` notices the process is gone.

A nested workflow checkpoints under ``<run id>/<step>``; the store gives it a record of its own,
which ends with the same status as the outermost run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, StateError
from llmspell.workflows.payloads import encode_value
from llmspell.workflows.progress import replay, snapshot_record

if TYPE_CHECKING:
    from llmspell.state.store import Store
    from llmspell.workflows.model import Workflow
    from llmspell.workflows.services import StepServices

RUN_STATUS = {
    "completed": "completed",
    "failed": "failed",
    "timed_out": "failed",
    "cancelled": "cancelled",
}
"""The run record status for each workflow result status."""


class WorkflowRunStore:
    """Run records, stored definitions and checkpoints of workflow runs in ``store``."""

    def __init__(self, store: Store) -> None:
        from llmspell.state.checkpoints import CheckpointStore
        from llmspell.state.runs import RunStore

        self.store = store
        self.checkpoints = CheckpointStore(store)
        self.runs = RunStore(store)
        self._checkpointed: set[str] = set()

    async def checkpoint(self, run_id: str, workflow_hash: str, record: dict[str, Any]) -> None:
        """Append a record to the checkpoint of ``run_id``, committed before this returns (a
        step reported complete survives the process being killed)."""
        self.checkpoints.save_encoded_checkpoint(run_id, workflow_hash, encode_value(record))
        self._checkpointed.add(run_id)

    async def load_checkpoint(self, run_id: str, workflow_hash: str) -> dict[str, Any] | None:
        """The progress of ``run_id`` replayed from its records, or None; ``StateError`` when
        a record is corrupted, of another format or of another workflow definition."""
        from llmspell.state.checkpoints import SNAPSHOT_FORMAT

        saved = self.checkpoints.load_records(run_id, workflow_hash)
        return replay(
            snapshot_record(record["payload"])
            if record["schema_version"] == SNAPSHOT_FORMAT
            else record["payload"]
            for record in saved
        )

    async def execute(
        self,
        workflow: Workflow,
        input: Any,
        services: StepServices,
        run_id: str,
        *,
        resume: bool = False,
        script: str | None = None,
        definition: Mapping[str, Any] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Run ``workflow`` as run ``run_id`` and return its result, whose ``metadata.run_id``
        names the run. With ``resume`` the run must exist: it continues from its latest
        checkpoint. ``definition`` (the table form) is stored so that the run can be resumed
        without the caller (``resume_run``); ``script`` is shown in run listings. With ``warn``,
        a new run whose record cannot be written (a read-only database) runs anyway, without
        checkpoints, after ``warn(message)``."""
        try:
            self.begin(run_id, input=input, script=script, resume=resume)
        except StateError as exc:
            if warn is None or resume:
                raise
            warn(f"workflow run {run_id} not recorded, so it cannot be resumed: {exc}")
            return await workflow.execute(input, services)
        if definition is not None and not resume:
            self.checkpoints.save_definition(run_id, workflow.definition_hash(), definition, input)
        try:
            result = await workflow.execute(input, services, run_id=run_id, resume=resume)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self.finish(run_id, "interrupted", error="the run was interrupted", kind="cancelled")
            raise
        except Exception as exc:
            self.finish(run_id, "failed", error=str(exc), kind=getattr(exc, "error_kind", None))
            raise
        status = RUN_STATUS[result["metadata"]["status"]]
        kind = "timeout" if result["metadata"]["status"] == "timed_out" else None
        self.finish(run_id, status, error=result.get("error"), kind=kind)
        result["metadata"]["run_id"] = run_id
        return result

    def begin(self, run_id: str, *, input: Any, script: str | None, resume: bool) -> None:
        """Create and start the record of a new run, or start a recorded run again."""
        record = self.runs.get(run_id)
        if record is None:
            if resume:
                raise NotFoundError(f"run '{run_id}' not found: there is nothing to resume")
            self.runs.create("workflow", script=script, args=input, run_id=run_id)
        elif not resume:
            raise StateError(f"run '{run_id}' already exists; resume it or use another run id")
        else:
            self.runs.mark_abandoned()
            current = self.runs.get(run_id)
            if current is not None and current["status"] == "completed":
                return  # every step is in the checkpoint: resuming re-runs none of them
        self.runs.start(run_id)

    def finish(
        self, run_id: str, status: str, *, error: str | None = None, kind: str | None = None
    ) -> None:
        """Record the end of ``run_id`` and of the nested runs it checkpointed."""
        prefix = f"{run_id}/"
        nested = sorted(saved for saved in self._checkpointed if saved.startswith(prefix))
        for recorded in (run_id, *nested):
            self.runs.finish(recorded, status, error=error, error_kind=kind)
            self._checkpointed.discard(recorded)
