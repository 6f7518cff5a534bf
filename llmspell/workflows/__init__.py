"""Workflows: sequential, parallel, conditional and loop, with data flowing between steps.

Names are imported on first use, so importing this package costs nothing on a script's
startup path.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmspell.workflows.builder import WorkflowBuilder
    from llmspell.workflows.executor import WorkflowRun
    from llmspell.workflows.files import load_workflow_file
    from llmspell.workflows.model import Branch, RetryPolicy, Step, Workflow, workflow_types
    from llmspell.workflows.registry import WorkflowRegistry
    from llmspell.workflows.services import BaseServices, PythonServices, StepServices
    from llmspell.workflows.tables import step_from_dict, workflow_from_dict

_EXPORTS = {
    "WorkflowBuilder": "builder",
    "WorkflowRun": "executor",
    "load_workflow_file": "files",
    "Branch": "model",
    "RetryPolicy": "model",
    "Step": "model",
    "Workflow": "model",
    "workflow_types": "model",
    "WorkflowRegistry": "registry",
    "BaseServices": "services",
    "PythonServices": "services",
    "StepServices": "services",
    "step_from_dict": "tables",
    "workflow_from_dict": "tables",
}

__all__ = [
    "BaseServices",
    "Branch",
    "PythonServices",
    "RetryPolicy",
    "Step",
    "StepServices",
    "Workflow",
    "WorkflowBuilder",
    "WorkflowRegistry",
    "WorkflowRun",
    "load_workflow_file",
    "step_from_dict",
    "workflow_from_dict",
    "workflow_types",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmspell.workflows' has no attribute '{name}'")
    return getattr(importlib.import_module(f"llmspell.workflows.{module}"), name)
