"""Running workflow definitions against the store, and resuming them (``llmspell runs resume``).

A run started with ``llmspell workflow run FILE`` stores its definition and input with its run
record; ``resume_run`` rebuilds the workflow from them and continues from the latest checkpoint,
so the steps that completed before an interruption or a crash are not run again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, StateError

if TYPE_CHECKING:
    from llmspell.core.config import Config
    from llmspell.state.store import Store
    from llmspell.tools.permissions import PermissionPolicy
    from llmspell.workflows.persistence import WorkflowRunStore
    from llmspell.workflows.services import EventFunction
    from llmspell.workflows.tool_services import ToolRegistryServices


def store_services(
    store: Store,
    config: Config,
    *,
    policy: PermissionPolicy | None = None,
    on_event: EventFunction | None = None,
    records: WorkflowRunStore | None = None,
) -> ToolRegistryServices:
    """Step services for workflow files: the configured tools under ``policy`` (default: the
    configured one, denying what would ask), ``{{state.<key>}}`` from the ``global`` scope of
    ``store``, checkpoints in ``records`` (default: a new ``WorkflowRunStore`` on ``store``).
    Close ``services.registry`` after."""
    from llmspell.state.state import StateStore
    from llmspell.tools.permissions import PermissionPolicy
    from llmspell.tools.registry import ToolRegistry
    from llmspell.workflows.persistence import WorkflowRunStore
    from llmspell.workflows.tool_services import ToolRegistryServices

    state = StateStore(store)

    def read_state(key: str) -> Any:
        return state.load("global", key)

    return ToolRegistryServices(
        ToolRegistry.from_config(config),
        policy or PermissionPolicy.from_config(config),
        read_state=read_state,
        on_event=on_event,
        checkpoints=records or WorkflowRunStore(store),
    )


async def resume_run(
    store: Store,
    run_id: str,
    *,
    config: Config | None = None,
    policy: PermissionPolicy | None = None,
    on_event: EventFunction | None = None,
) -> dict[str, Any]:
    """Continue workflow run ``run_id`` from its latest checkpoint and return the result.

    ``config`` gives the tools (default: the discovered configuration). Raises ``NotFoundError``
    for an unknown run, ``StateError`` for a run without a stored definition (a workflow built
    by a script resumes from that script), a corrupted or incompatible checkpoint, or a run
    that is still running.
    """
    from llmspell.core.config import load_config
    from llmspell.workflows.persistence import WorkflowRunStore
    from llmspell.workflows.tables import workflow_from_dict

    records = WorkflowRunStore(store)
    stored = records.checkpoints.load_definition(run_id)
    if stored is None:
        if records.runs.get(run_id) is None:
            raise NotFoundError(f"run '{run_id}' not found")
        raise StateError(
            f"run '{run_id}' has no stored workflow definition, so it cannot be resumed here; "
            "a workflow run by a script resumes from the script: "
            "wf:execute(input, {resume_from = <run id>})"
        )
    workflow = workflow_from_dict(stored["definition"])
    if workflow.definition_hash() != stored["workflow_hash"]:
        raise StateError(
            f"run '{run_id}': its stored workflow definition reads differently in this version "
            "of llmspell; it cannot be resumed"
        )
    services = store_services(
        store, config or load_config(), policy=policy, on_event=on_event, records=records
    )
    try:
        return await records.execute(workflow, stored["input"], services, run_id, resume=True)
    finally:
        await services.registry.close()
