"""The workflows a run has built, by id, for ``Workflow.list()`` and ``Workflow.get(id)``."""

from __future__ import annotations

import builtins
from typing import Any

from llmspell.workflows.model import Workflow


class WorkflowRegistry:
    """Workflows in registration order. ``get`` accepts an id or, failing that, a name (the
    most recently registered workflow of that name)."""

    def __init__(self) -> None:
        self._workflows: dict[str, Workflow] = {}

    def register(self, workflow: Workflow) -> str:
        self._workflows[workflow.id] = workflow
        return workflow.id

    def get(self, key: str) -> Workflow | None:
        found = self._workflows.get(key)
        if found is not None:
            return found
        named = [wf for wf in self._workflows.values() if wf.name == key]
        return named[-1] if named else None

    def remove(self, key: str) -> bool:
        workflow = self.get(key)
        if workflow is None:
            return False
        del self._workflows[workflow.id]
        return True

    def list(self) -> builtins.list[dict[str, Any]]:
        """``[{id, name, type, description, step_count}]``."""
        return [
            {
                "id": wf.id,
                "name": wf.name,
                "type": wf.type,
                "description": wf.description,
                "step_count": len(wf.all_steps()),
            }
            for wf in self._workflows.values()
        ]

    def __len__(self) -> int:
        return len(self._workflows)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None
