"""Running a workflow: one ``WorkflowRun`` per execution.

Steps run on the caller's event loop. Parallel steps are asyncio tasks bounded by
``max_concurrency``; under ``fail_fast`` the first failure cancels the siblings. The body runs
in one child task so that ``WorkflowRun.cancel`` can stop it and still return a result, while
cancelling the task that awaits ``execute`` cancels every step and propagates.

A run given a ``run_id`` hands its services one checkpoint record (``progress``) after each
finished step, before reporting it complete (the record of the step that ends a loop iteration
also ends the iteration, and the record of a step that breaks its loop says so);
``resume=True`` reloads the progress those records rebuild for that run id and skips the steps
it records as done. A resumed loop that a break had ended runs no further iteration. Without a
``run_id`` nothing is saved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from llmspell.core.errors import Cancelled, LlmspellError, ToolError, ValidationError, WorkflowError
from llmspell.workflows.conditions import evaluate
from llmspell.workflows.model import DEFAULT_MAX_ITERATIONS, RetryPolicy, Step, Workflow
from llmspell.workflows.progress import iteration_record, step_record
from llmspell.workflows.references import BadReference, Reference, resolve, type_name, walk
from llmspell.workflows.results import Outcome, build_result
from llmspell.workflows.services import BaseServices, StepServices
from llmspell_utils.concurrency import concurrent_map
from llmspell_utils.ids import new_id
from llmspell_utils.retry import retry_async
from llmspell_utils.timeouts import OperationTimeout, with_timeout

MAX_BACKOFF_SECONDS = 60.0
"""The longest wait between two attempts of the ``retry`` strategy, whatever the multiplier."""


class StepFailed(Exception):
    """A step failed and its error strategy ends the run."""

    def __init__(self, step: str, error: str) -> None:
        super().__init__(f"step '{step}' failed: {error}")
        self.step = step
        self.error = error


class _RunCancelled(Exception):
    """``WorkflowRun.cancel`` stopped the body."""


class _Attempts:
    """How many times a step was tried, kept apart from the retry helper's bookkeeping."""

    def __init__(self) -> None:
        self.count = 0


class WorkflowRun:
    """One execution of ``workflow`` with ``input``.

    ``run_id`` names the run for checkpoints (none are saved without one); with ``resume`` the
    progress checkpointed under that run id and definition is restored first. ``shared`` is
    merged over the workflow's own shared data (nested workflows inherit their parent's).
    """

    def __init__(
        self,
        workflow: Workflow,
        services: StepServices | None = None,
        input: Any = None,
        *,
        run_id: str | None = None,
        resume: bool = False,
        shared: dict[str, Any] | None = None,
    ) -> None:
        self.workflow = workflow
        self.services: StepServices = services if services is not None else BaseServices()
        self.input = input
        self.execution_id = new_id("exec")
        self.run_id = run_id
        if resume and run_id is None:
            raise ValidationError("resuming a workflow run needs its run_id")
        self.resume = resume
        self.resumed = False
        self.shared: dict[str, Any] = {**workflow.shared, **(shared or {})}
        self.outputs: dict[str, Any] = {}
        self.records: list[dict[str, Any]] = []
        self.completed: dict[str, dict[str, Any]] = {}
        self.final: Any = None
        self.branch: int | None = None
        self.iterations: list[dict[str, Any]] = []
        self.loop_exit: str | None = None
        self._ordered = [step.name for step in workflow.all_steps()]
        self._iteration: int | None = None
        self._item: Any = None
        self._iteration_outputs: dict[str, Any] | None = None
        self.loop_broken = False
        self._hash: str | None = None
        self._input_saved = False
        self._body: asyncio.Future[None] | None = None
        self._cancel_reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the run; ``execute`` then returns a result whose status is ``cancelled``."""
        self._cancel_reason = reason
        if self._body is not None:
            self._body.cancel()

    async def execute(self) -> dict[str, Any]:
        """Run the workflow and return ``{success, text, outputs, steps, final, execution_id,
        duration_ms, metadata, error?}``. Step failures, timeouts and cancellation by
        ``cancel`` or a hook are reported in the result; cancelling the awaiting task
        propagates ``CancelledError``."""
        wf = self.workflow
        started = time.perf_counter()
        if self.resume:
            await self._restore()
        outcome = Outcome()
        try:
            data = await self.services.run_hooks(
                "BeforeWorkflowStart", {**self._about(), "input": self.input}
            )
            self.input = data.get("input", self.input)
            await self.services.emit("workflow.started", self._about())
            await self._run_body()
        except StepFailed as exc:
            outcome = Outcome("failed", exc.error, exc.step)
        except Cancelled as exc:
            outcome = Outcome("cancelled", str(exc) or "cancelled by a hook")
        except _RunCancelled:
            outcome = Outcome("cancelled", self._cancel_reason)
        except OperationTimeout as exc:
            outcome = Outcome("timed_out", str(exc))
        except Exception as exc:
            outcome = Outcome("failed", error_text(exc))
        result = build_result(self, outcome, (time.perf_counter() - started) * 1000)
        if outcome.status != "completed":
            await self.services.run_hooks(
                "WorkflowError", {**self._about(), "step": outcome.step, "error": outcome.error}
            )
        data = await self.services.run_hooks(
            "AfterWorkflowComplete", {**self._about(), "result": result}
        )
        result = dict(data.get("result", result))
        event = "workflow.completed" if result["success"] else "workflow.failed"
        await self.services.emit(event, {**self._about(), "status": outcome.status})
        wf.last_result = result
        return result

    def _about(self) -> dict[str, Any]:
        wf = self.workflow
        return {"workflow": wf.name, "workflow_id": wf.id, "execution_id": self.execution_id}

    async def _run_body(self) -> None:
        wf = self.workflow
        limit = wf.timeout
        message = f"workflow '{wf.name}' timed out after {limit:g}s" if limit else ""
        if self._cancel_reason is not None:
            raise _RunCancelled
        body = asyncio.ensure_future(with_timeout(self._dispatch(), limit, message))
        self._body = body
        try:
            await body
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._cancel_reason is None or (task is not None and task.cancelling()):
                raise
            raise _RunCancelled from None

    async def _dispatch(self) -> None:
        kind = self.workflow.type
        if kind == "sequential":
            await self._sequence(self.workflow.steps, "")
        elif kind == "parallel":
            await self._parallel()
        elif kind == "conditional":
            await self._conditional()
        else:
            await self._loop()

    async def _sequence(self, steps: Sequence[Step], suffix: str) -> None:
        for step in steps:
            await self._step(step, suffix)
            if self.loop_broken:
                return

    async def _parallel(self) -> None:
        wf = self.workflow
        groups = [[step] for step in wf.steps] + [branch.steps for branch in wf.branches]
        limit = min(wf.max_concurrency or len(groups), len(groups))

        async def run_group(steps: list[Step]) -> None:
            await self._sequence(steps, "")

        await concurrent_map(run_group, groups, limit)

    async def _conditional(self) -> None:
        wf = self.workflow
        if self.branch is None:
            ctx = self._context(None, None)
            self.branch = -1
            for position, branch in enumerate(wf.branches):
                if await evaluate(branch.condition, ctx, self.services.call_function):
                    self.branch = position
                    break
        steps = wf.default if self.branch == -1 else wf.branches[self.branch].steps
        await self._sequence(steps, "")

    async def _loop(self) -> None:
        wf = self.workflow
        limit = wf.max_iterations or DEFAULT_MAX_ITERATIONS
        items = self._loop_items()
        position = len(self.iterations)
        self.loop_exit = "completed"
        if await self._ended_by_break(items, position):
            self.loop_exit = "break"
            return
        while True:
            if items is not None and position >= len(items):
                return
            if position >= limit:
                self.loop_exit = "max_iterations"
                return
            self._iteration = position + 1
            self._item = items[position] if items is not None else None
            if items is None and not await evaluate(
                wf.while_condition, self._context(None, None), self.services.call_function
            ):
                return
            self._iteration_outputs = {}
            await self._sequence(wf.steps, f"#{position + 1}")
            position += 1
            if len(self.iterations) < position:  # no step ended it: all had run before a resume
                self.iterations.append(self._iteration_outputs)
                if self.run_id is not None:
                    await self._checkpoint(self.run_id, iteration_record(position))
            if self.loop_broken or (
                wf.break_condition is not None
                and await evaluate(
                    wf.break_condition, self._context(None, None), self.services.call_function
                )
            ):
                self.loop_exit = "break"
                return

    async def _ended_by_break(self, items: Sequence[Any] | None, position: int) -> bool:
        """Whether the restored progress, ``position`` iterations done, ends with a break: a
        step's record says it broke the loop, or the ``break_condition`` holds after the last
        iteration done. The condition is evaluated again, as the interrupted run would have
        evaluated it, with the loop at that iteration, unless a step of the next iteration has
        run since (then the progress is no longer the one it was evaluated on)."""
        wf = self.workflow
        if self.loop_broken:
            return True
        if wf.break_condition is None or position == 0:
            return False
        if any(f"{step.name}#{position + 1}" in self.completed for step in wf.steps):
            return False
        self._iteration = position
        self._item = items[position - 1] if items is not None else None
        return await evaluate(
            wf.break_condition, self._context(None, None), self.services.call_function
        )

    def _loop_items(self) -> Sequence[Any] | None:
        """The values a loop iterates over (``None`` for a while-loop)."""
        wf = self.workflow
        if wf.iterations is not None:
            return range(1, wf.iterations + 1)
        if wf.range is not None:
            start, stop, step = wf.range
            return range(start, stop + (1 if step > 0 else -1), step)
        if wf.collection is None:
            return None
        try:
            items = resolve(wf.collection, self._lookup)
        except BadReference as exc:
            raise ValidationError(f"workflow '{wf.name}', field 'collection': {exc}") from None
        if not isinstance(items, list | tuple):
            raise ValidationError(
                f"workflow '{wf.name}': field 'collection' must give a list, got {type_name(items)}"
            )
        return items

    async def _step(self, step: Step, suffix: str) -> None:
        key = step.name + suffix
        done = self.completed.get(key)
        if done is not None:
            if done["success"]:
                self._store(step, done["output"])
            return
        strategy = step.error_strategy or self.workflow.error_strategy
        about = {**self._about(), "step": step.name, "kind": step.kind}
        if self._iteration is not None:
            about["iteration"] = self._iteration
        attempts = _Attempts()
        started = time.perf_counter()
        try:
            step_input = self._resolve_input(step)
            data = await self.services.run_hooks(
                "BeforeWorkflowStage", {**about, "input": step_input}
            )
            step_input = data.get("input", step_input)
            await self.services.emit("workflow.step.started", about)
            output = await self._attempts(step, key, step_input, strategy, attempts)
            data = await self.services.run_hooks("AfterWorkflowStage", {**about, "output": output})
            output = data.get("output", output)
        except asyncio.CancelledError:
            self._record(step, started, attempts.count, "cancelled")
            raise
        except Cancelled as exc:
            self._record(step, started, attempts.count, error_text(exc))
            raise
        except Exception as exc:
            error = error_text(exc)
            record = self._record(step, started, attempts.count, error)
            if strategy == "continue":
                self.completed[key] = {"success": False}
                await self._finish(step, key, record, None)
            await self.services.emit("workflow.step.failed", {**about, **record})
            if strategy != "continue":
                raise StepFailed(step.name, error) from exc
            return
        record = self._record(step, started, attempts.count, None)
        self._store(step, output)
        self.completed[key] = {"success": True, "output": output}
        await self._finish(step, key, record, output)
        await self.services.emit("workflow.step.completed", {**about, **record})

    async def _finish(self, step: Step, key: str, entry: dict[str, Any], output: Any) -> None:
        """Close the loop iteration ``step`` ends, if it ends one, and checkpoint the step, in
        one record, before the step is reported complete."""
        ends = False
        if self._iteration_outputs is not None and (
            self.loop_broken or step is self.workflow.steps[-1]
        ):
            self.iterations.append(self._iteration_outputs)
            ends = True
        if self.run_id is not None:
            record = step_record(
                key,
                entry,
                output,
                self.shared,
                self.branch,
                ends_iteration=ends,
                breaks_loop=self.loop_broken,
            )
            await self._checkpoint(self.run_id, record)

    def _store(self, step: Step, output: Any) -> None:
        self.outputs[step.name] = output
        self.final = output
        if self._iteration_outputs is not None:
            self._iteration_outputs[step.name] = output
            if step.kind == "function" and isinstance(output, dict) and output.get("break") is True:
                self.loop_broken = True

    def _record(
        self, step: Step, started: float, attempts: int, error: str | None
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "name": step.name,
            "success": error is None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "attempts": attempts,
        }
        if error is not None:
            record["error"] = error
        if self._iteration is not None:
            record["iteration"] = self._iteration
        self.records.append(record)
        return record

    async def _attempts(
        self, step: Step, key: str, step_input: Any, strategy: str, attempts: _Attempts
    ) -> Any:
        async def attempt() -> Any:
            attempts.count += 1
            return await self._attempt(step, key, step_input)

        if strategy != "retry":
            return await attempt()
        policy = step.retry or self.workflow.retry or RetryPolicy()
        return await retry_async(
            attempt,
            attempts=policy.max_attempts,
            base_delay=policy.backoff_ms / 1000,
            max_delay=MAX_BACKOFF_SECONDS,
            multiplier=policy.multiplier,
            jitter=False,
            retry_on=_retryable,
        )

    async def _attempt(self, step: Step, key: str, step_input: Any) -> Any:
        call = self._call(step, key, step_input)
        if step.timeout is None:
            return await call
        message = f"step '{step.name}' timed out after {step.timeout:g}s"
        return await with_timeout(call, step.timeout, message)

    async def _call(self, step: Step, key: str, step_input: Any) -> Any:
        services = self.services
        if step.kind == "tool":
            params = {} if step_input is None else step_input
            if not isinstance(params, dict):
                raise ValidationError(
                    f"step '{step.name}': the input of a tool step must be a table, got "
                    f"{type_name(params)}"
                )
            result = await services.call_tool(str(step.tool), params)
            if result.get("success") is False:
                detail = result.get("error") or result.get("message") or result.get("text")
                raise ToolError(f"tool '{step.tool}' failed: {detail or 'no details'}")
            return result
        if step.kind == "agent":
            return await services.call_agent(
                step.agent, self.input if step_input is None else step_input
            )
        if step.kind == "workflow" and step.workflow is not None:
            return await self._nested(step.workflow, key, step_input)
        return await services.call_function(step.fn, self._context(step.name, step_input))

    async def _nested(self, workflow: Workflow, key: str, step_input: Any) -> dict[str, Any]:
        run = WorkflowRun(
            workflow,
            self.services,
            self.input if step_input is None else step_input,
            run_id=None if self.run_id is None else f"{self.run_id}/{key}",
            resume=self.resume,
            shared=self.shared,
        )
        result = await run.execute()
        if result["metadata"]["status"] == "cancelled":
            raise Cancelled(result["text"])
        if not result["success"]:
            raise WorkflowError(result["text"])
        return result

    def _resolve_input(self, step: Step) -> Any:
        if step.input is None:
            return None
        try:
            return resolve(step.input, self._lookup)
        except BadReference as exc:
            raise ValidationError(f"step '{step.name}': {exc}") from None

    def _lookup(self, reference: Reference) -> Any:
        label = f"unknown reference '{reference.text}'"
        if reference.root == "input":
            return walk(self.input, reference.path, label)
        if reference.root == "loop":
            value = self._item if reference.key == "item" else self._iteration
            return walk(value, reference.path, label)
        if reference.root == "state":
            value = self.services.state_get(str(reference.key))
            if value is None:
                raise BadReference(f"{label}: state key '{reference.key}' is not set")
            return walk(value, reference.path, label)
        name = reference.step
        if reference.index is not None:
            if reference.index > len(self._ordered):
                raise BadReference(f"{label}: the workflow has {len(self._ordered)} steps")
            name = self._ordered[reference.index - 1]
        if name not in self.outputs:
            raise BadReference(f"{label}: step '{name}' has no output (it has not run or failed)")
        return walk(self.outputs[name], reference.path, label)

    def _context(self, step: str | None, params: Any) -> dict[str, Any]:
        """What a function step or a condition function receives as ``ctx``."""
        return {
            "input": self.input,
            "outputs": self.outputs,
            "shared": self.shared,
            "iteration": self._iteration,
            "item": self._item,
            "step": step,
            "params": params,
            "workflow": self.workflow.name,
            "execution_id": self.execution_id,
        }

    async def _checkpoint(self, run_id: str, record: dict[str, Any]) -> None:
        """Hand ``record`` to the services. The first record of a run carries its input, and
        only that one: a record with the input starts the progress over when it is replayed,
        so the flag is set before waiting, while parallel siblings may save theirs."""
        if self._hash is None:
            self._hash = self.workflow.definition_hash()
        if not self._input_saved:
            record["input"] = self.input
            self._input_saved = True
        await self.services.checkpoint(run_id, self._hash, record)

    async def _restore(self) -> None:
        if self.run_id is None:
            return
        self._hash = self.workflow.definition_hash()
        progress = await self.services.load_checkpoint(self.run_id, self._hash)
        if progress is None:
            return
        self.input = progress["input"]
        self.shared = progress["shared"]
        self.outputs = progress["outputs"]
        self.final = progress["final"]
        self.completed = progress["completed"]
        self.records = progress["steps"]
        self.branch = progress["branch"]
        self.iterations = progress["iterations"]
        self.loop_broken = progress["loop_broken"]
        self._input_saved = True
        self.resumed = True


def _retryable(exc: BaseException) -> bool:
    """Bad input and cancellation fail the same way every time: no point retrying them."""
    return not isinstance(exc, ValidationError | Cancelled)


def error_text(exc: BaseException) -> str:
    """How a step error reads in results: ``Kind: message``."""
    if isinstance(exc, LlmspellError):
        return exc.lua_message()
    if isinstance(exc, OperationTimeout):
        return f"Timeout: {exc}"
    return f"{type(exc).__name__}: {exc}"
