"""``Workflow``: build, load, run and inspect workflows (the domain is ``llmspell.workflows``).

A workflow instance in Lua is a table holding the id of a ``Workflow`` kept in this run's
``WorkflowRegistry``. Definitions arrive as plain data (Lua functions as ``LuaFunctionRef``);
``workflow.lua`` has already replaced workflow instances inside them by their ids and agent
instances by their fields.

Each ``wf:execute`` is a run of its own in the store, ``<execution id>/<workflow name>`` (with
``#<n>`` added for the n-th execution of that name in the script), checkpointed after each step.
``wf:execute(input, {resume_from = ID})`` continues such a run: ``ID`` is the script run's
execution id, or the workflow run's id itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.core.errors import NotFoundError, StateError, ValidationError
from llmspell.lua.globals.calls import named

if TYPE_CHECKING:
    from llmspell.lua.bridge import Bridge
    from llmspell.lua.globals.workflow_services import ScriptStepServices
    from llmspell.workflows.model import Workflow
    from llmspell.workflows.registry import WorkflowRegistry

TABLE_FORMS = ("sequential", "parallel", "conditional", "loop")
BUILDER_METHODS = frozenset(
    {
        "name",
        "description",
        "type",
        "sequential",
        "parallel",
        "conditional",
        "loop",
        "add_step",
        "add_branch",
        "condition",
        "add_then_step",
        "add_else_step",
        "error_strategy",
        "retry",
        "timeout",
        "max_concurrency",
        "iterations",
        "range",
        "collection",
        "while_condition",
        "break_condition",
        "max_iterations",
        "shared_data",
    }
)
EXECUTE_OPTIONS = frozenset({"resume_from", "resumeFrom", "checkpoint"})
_STEP_LISTS = ("steps", "body", "default")


class RunWorkflows:
    """The workflows of one script run and the calls of the ``Workflow`` global."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge
        self._registry: WorkflowRegistry | None = None
        self._services: ScriptStepServices | None = None
        self._executions: dict[str, int] = {}

    @property
    def registry(self) -> WorkflowRegistry:
        if self._registry is None:
            from llmspell.workflows.registry import WorkflowRegistry

            self._registry = WorkflowRegistry()
        return self._registry

    @property
    def services(self) -> ScriptStepServices:
        if self._services is None:
            from llmspell.lua.globals.workflow_services import ScriptStepServices

            self._services = ScriptStepServices(self._bridge)
        return self._services

    # -- creating ----------------------------------------------------------------------------
    def create(self, data: Any, kind: str) -> dict[str, Any]:
        """``Workflow.sequential{...}`` and the other table forms."""
        from llmspell.workflows.tables import workflow_from_dict

        if not isinstance(data, dict):
            raise ValidationError(f"expected a table of workflow fields, got {_type(data)}")
        if data.get("type", kind) != kind:
            raise ValidationError(
                f"field 'type' is {data['type']!r}; use Workflow.{data['type']}{{...}}"
                if data["type"] in TABLE_FORMS
                else f"field 'type' must be '{kind}' here, got {data['type']!r}"
            )
        return self._register(workflow_from_dict(self._with_nested(data), default_type=kind))

    def build(self, calls: Any) -> dict[str, Any]:
        """``Workflow.builder()...:build()``: replay the recorded setter calls on a
        ``WorkflowBuilder``."""
        from llmspell.workflows.builder import WorkflowBuilder

        builder = WorkflowBuilder()
        for call in calls or []:
            method = call["method"]
            if method not in BUILDER_METHODS:
                raise ValidationError(f"unknown builder method ':{method}'")
            packed = call["args"]
            args = [packed.get(i) for i in range(1, packed["n"] + 1)]
            if method in ("add_step", "add_then_step", "add_else_step") and args:
                args[0] = self._step_with_nested(args[0])
            elif method == "add_branch" and len(args) > 1 and isinstance(args[1], list):
                args[1] = [self._step_with_nested(step) for step in args[1]]
            try:
                getattr(builder, method)(*args)
            except TypeError:
                raise ValidationError(
                    f":{method}() got {len(args)} argument(s), which it does not take"
                ) from None
        return self._register(builder.build())

    def from_file(self, path: Any) -> dict[str, Any]:
        """``Workflow.from_file(path)``: the path must be readable under the run's permissions."""
        from llmspell.workflows.files import load_workflow_file

        if not isinstance(path, str):
            raise ValidationError(f"path must be a string, got {_type(path)}")
        resolved = self._bridge.services.permissions.check_read(path)
        return self._register(load_workflow_file(resolved))

    def _register(self, workflow: Workflow) -> dict[str, Any]:
        self.registry.register(workflow)
        return _instance(workflow)

    def _with_nested(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with the nested workflows its steps name by id (or name) looked up."""
        out = dict(data)
        for field in _STEP_LISTS:
            if isinstance(out.get(field), list):
                out[field] = [self._step_with_nested(step) for step in out[field]]
        if isinstance(out.get("branches"), list):
            out["branches"] = [
                {**branch, "steps": [self._step_with_nested(s) for s in branch["steps"]]}
                if isinstance(branch, dict) and isinstance(branch.get("steps"), list)
                else branch
                for branch in out["branches"]
            ]
        return out

    def _step_with_nested(self, step: Any) -> Any:
        if not isinstance(step, dict):
            return step
        nested = step.get("workflow")
        if isinstance(nested, str):
            return {**step, "workflow": self._workflow(nested)}
        if isinstance(nested, dict):
            return {**step, "workflow": self._with_nested(nested)}
        return step

    def _workflow(self, handle: Any) -> Workflow:
        """The workflow of an instance's id (or of a name, for steps naming a workflow)."""
        if not isinstance(handle, str):
            raise ValidationError(f"workflow id must be a string, got {_type(handle)}")
        workflow = self.registry.get(handle)
        if workflow is None:
            raise NotFoundError(f"workflow '{handle}' not found in this run")
        return workflow

    # -- running -----------------------------------------------------------------------------
    async def execute(self, handle: Any, input: Any = None, options: Any = None) -> dict[str, Any]:
        """``wf:execute(input?, {resume_from?, checkpoint?})``."""
        workflow = self._workflow(handle)
        resume_from, checkpoint = _execute_options(options)
        count = self._executions[workflow.name] = self._executions.get(workflow.name, 0) + 1
        services = self.services
        if not checkpoint:
            return await workflow.execute(input, services)
        suffix = "" if count == 1 else f"#{count}"
        script = self._bridge.script_name
        if resume_from is not None:
            if "/" not in resume_from:
                resume_from = f"{resume_from}/{workflow.name}{suffix}"
            return await services.records.execute(
                workflow, input, services, resume_from, resume=True, script=script
            )
        run_id = f"{self._script_run.execution_id}/{workflow.name}{suffix}"
        try:
            records = services.records
        except StateError as exc:  # the store cannot be opened: run, as scripts do, unrecorded
            self._warn(f"workflow run {run_id} not recorded, so it cannot be resumed: {exc}")
            return await workflow.execute(input, services)
        return await records.execute(
            workflow, input, services, run_id, script=script, warn=self._warn
        )

    @property
    def _script_run(self) -> Any:
        return self._bridge.run  # type: ignore[attr-defined]

    def _warn(self, message: str) -> None:
        self._script_run.output.write("stderr", f"warning: {message}\n".encode())

    # -- instance methods and the registry ---------------------------------------------------
    def set_shared_data(self, handle: Any, key: Any, value: Any = None) -> None:
        if not isinstance(key, str):
            raise ValidationError(f"key must be a string, got {_type(key)}")
        self._workflow(handle).set_shared_data(key, value)

    def get_output(self, handle: Any, step: Any) -> Any:
        if not isinstance(step, str):
            raise ValidationError(f"step name must be a string, got {_type(step)}")
        return self._workflow(handle).get_output(step)

    def get_all_outputs(self, handle: Any) -> dict[str, Any]:
        return self._workflow(handle).get_all_outputs()

    def get_execution_id(self, handle: Any) -> str | None:
        return self._workflow(handle).get_execution_id()

    def validate(self, handle: Any) -> dict[str, Any]:
        return self._workflow(handle).validate()

    def get_info(self, handle: Any) -> dict[str, Any]:
        return self._workflow(handle).get_info()

    def list_workflows(self) -> list[dict[str, Any]]:
        return self.registry.list() if self._registry is not None else []

    def get(self, key: Any) -> dict[str, Any] | None:
        if not isinstance(key, str):
            raise ValidationError(f"workflow id must be a string, got {_type(key)}")
        workflow = self.registry.get(key)
        return None if workflow is None else _instance(workflow)


def _execute_options(options: Any) -> tuple[str | None, bool]:
    """``(resume_from, checkpoint)`` from ``wf:execute``'s options table."""
    where = "Workflow:execute"
    if options is None:
        return None, True
    if not isinstance(options, dict):
        raise ValidationError(
            f"{where}: options must be a table {{resume_from=, checkpoint=}}, got {_type(options)}"
        )
    unknown = sorted(str(k) for k in options if k not in EXECUTE_OPTIONS)
    if unknown:
        raise ValidationError(
            f"{where}: unknown option '{unknown[0]}' (known: resume_from, checkpoint)"
        )
    resume_from = options.get("resume_from", options.get("resumeFrom"))
    checkpoint = options.get("checkpoint", True)
    if resume_from is not None and (not isinstance(resume_from, str) or not resume_from):
        raise ValidationError(
            f"{where}: option 'resume_from' must be a run id, got {_type(resume_from)}"
        )
    if not isinstance(checkpoint, bool):
        raise ValidationError(
            f"{where}: option 'checkpoint' must be a boolean, got {_type(checkpoint)}"
        )
    if resume_from is not None and not checkpoint:
        raise ValidationError(
            f"{where}: option 'resume_from' needs checkpoints; drop 'checkpoint = false'"
        )
    return resume_from, checkpoint


def _instance(workflow: Workflow) -> dict[str, Any]:
    """The fields of a Lua workflow instance."""
    return {
        "id": workflow.id,
        "name": workflow.name,
        "type": workflow.type,
        "description": workflow.description,
    }


def _type(value: Any) -> str:
    from llmspell.workflows.references import type_name

    return type_name(value)


def install(bridge: Bridge) -> None:
    workflows = RunWorkflows(bridge)

    def sync(fn: Any, where: str, *, functions: bool = False) -> Any:
        return bridge.sync(named(fn, where), where, functions=functions)

    def table_form(kind: str) -> Any:
        def create(data: Any) -> dict[str, Any]:
            return workflows.create(data, kind)

        return sync(create, f"Workflow.{kind}", functions=True)

    fns = {kind: table_form(kind) for kind in TABLE_FORMS}
    fns |= {
        "build": sync(workflows.build, "Workflow.builder", functions=True),
        "from_file": sync(workflows.from_file, "Workflow.from_file"),
        "execute": bridge.async_(workflows.execute, "Workflow:execute"),
        "set_shared_data": sync(workflows.set_shared_data, "Workflow:set_shared_data"),
        "get_output": sync(workflows.get_output, "Workflow:get_output"),
        "get_all_outputs": sync(workflows.get_all_outputs, "Workflow:get_all_outputs"),
        "get_execution_id": sync(workflows.get_execution_id, "Workflow:get_execution_id"),
        "validate": sync(workflows.validate, "Workflow:validate"),
        "get_info": sync(workflows.get_info, "Workflow:get_info"),
        "list": sync(workflows.list_workflows, "Workflow.list"),
        "get": sync(workflows.get, "Workflow.get"),
        "types": bridge.sync(_types, "Workflow.types"),
    }
    bridge.define_global("Workflow", fns, lua_file="workflow.lua")


def _types() -> list[str]:
    from llmspell.workflows.model import workflow_types

    return workflow_types()
