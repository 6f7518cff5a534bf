"""The result table of a workflow run and its one-line summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from llmspell.workflows.executor import WorkflowRun

Status = Literal["completed", "failed", "cancelled", "timed_out"]


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``error`` says why it did not complete, ``step`` where it failed."""

    status: Status = "completed"
    error: str | None = None
    step: str | None = None


def build_result(run: WorkflowRun, outcome: Outcome, duration_ms: float) -> dict[str, Any]:
    """``{success, text, outputs, steps, final, execution_id, duration_ms, metadata, error?,
    iterations? (loops)}``."""
    wf = run.workflow
    successful = sum(1 for record in run.records if record["success"])
    metadata: dict[str, Any] = {
        "workflow_type": wf.type,
        "workflow_name": wf.name,
        "workflow_id": wf.id,
        "total_steps": len(run.records),
        "successful_steps": successful,
        "failed_steps": len(run.records) - successful,
        "status": outcome.status,
    }
    if outcome.step is not None:
        metadata["failed_step"] = outcome.step
    if wf.type == "conditional":
        metadata["branch"] = branch_label(run)
    if wf.type == "loop":
        metadata["iterations"] = len(run.iterations)
        metadata["loop_exit"] = run.loop_exit
    if run.resumed:
        metadata["resumed"] = True
    result: dict[str, Any] = {
        "success": outcome.status == "completed",
        "text": summary(run, outcome, successful),
        "outputs": dict(run.outputs),
        "steps": list(run.records),
        "final": _final(run),
        "execution_id": run.execution_id,
        "duration_ms": round(duration_ms, 3),
        "metadata": metadata,
    }
    if wf.type == "loop":
        result["iterations"] = list(run.iterations)
    if outcome.error is not None:
        result["error"] = outcome.error
    return result


def summary(run: WorkflowRun, outcome: Outcome, successful: int) -> str:
    """E.g. ``Sequential workflow 'x' completed: 4/4 steps``."""
    wf = run.workflow
    label = f"{wf.type.capitalize()} workflow '{wf.name}'"
    total = len(run.records)
    counts = f"{successful}/{total} steps"
    if outcome.status == "completed":
        text = f"{label} completed: {counts}"
        if total > successful:
            text += f" ({total - successful} failed)"
        if wf.type == "loop":
            text += f", {len(run.iterations)} iterations"
        if wf.type == "conditional":
            branch = branch_label(run)
            text += f", branch '{branch}'" if branch else ", no branch matched"
        return text
    if outcome.status == "failed" and outcome.step is not None:
        return f"{label} failed at step '{outcome.step}': {outcome.error} ({counts})"
    if outcome.status == "timed_out" and wf.timeout is not None:
        return f"{label} timed out after {wf.timeout:g}s ({counts})"
    return f"{label} {outcome.status}: {outcome.error} ({counts})"


def branch_label(run: WorkflowRun) -> str | None:
    """The name of the branch a conditional run took (``default``), or ``None``."""
    wf = run.workflow
    if run.branch is None or (run.branch == -1 and not wf.default):
        return None
    if run.branch == -1:
        return "default"
    return wf.branches[run.branch].name or f"branch_{run.branch + 1}"


def _final(run: WorkflowRun) -> Any:
    """The last output: in execution order, except for parallel runs, where it is the output
    of the last step in definition order that produced one."""
    if run.workflow.type != "parallel":
        return run.final
    for step in reversed(run.workflow.all_steps()):
        if step.name in run.outputs:
            return run.outputs[step.name]
    return None
