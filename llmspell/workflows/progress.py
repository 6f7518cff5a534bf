"""The checkpoint records of a workflow run, and its progress rebuilt from them.

A run with a run id saves one small record per completed step, so saving costs the same at
every step however long the run is:

- ``{"kind": "step", "key", "step", "output"?, "shared", "branch"?, "ends_iteration"?,
  "breaks_loop"?, "input"?}``: ``key`` is the step's name (``name#<n>`` in loop iteration n);
  ``step`` its entry in the result's ``steps``; ``output`` its output when it succeeded;
  ``shared`` the shared data after it; ``branch`` the branch a conditional run took;
  ``ends_iteration`` (true) when the step finished its loop iteration (the last of the body, or
  one that broke the loop); ``breaks_loop`` (true) when it broke the loop (a function step
  returning ``{break = true}``), so that a resumed run starts no further iteration; ``input``
  the run's input, in the first record of a run only.
- ``{"kind": "iteration", "iteration": n, "input"?}``: loop iteration n finished without a step
  of this record's run ending it (all its steps had completed before the run was resumed).
- ``{"kind": "snapshot", "progress": {...}}``: a whole progress, as checkpoints held before they
  became incremental (``WorkflowRunStore`` reads such an old checkpoint, of format 1, as this).

In the store, step and iteration records are of format 2
(``llmspell.state.checkpoints.CHECKPOINT_FORMAT``): a change to their layout needs a new format.
Optional flags that a reader may ignore (``breaks_loop``, absent from records saved before it
existed) keep the format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llmspell.core.errors import StateError


def step_record(
    key: str,
    entry: Mapping[str, Any],
    output: Any,
    shared: Any,
    branch: int | None,
    *,
    ends_iteration: bool = False,
    breaks_loop: bool = False,
) -> dict[str, Any]:
    """The record of a finished step: ``entry`` is its step entry (``success`` says whether
    ``output`` is kept); ``ends_iteration`` when it is the last step of its loop iteration,
    ``breaks_loop`` when it broke its loop."""
    record: dict[str, Any] = {"kind": "step", "key": key, "step": entry, "shared": shared}
    if entry["success"]:
        record["output"] = output
    if branch is not None:
        record["branch"] = branch
    if ends_iteration:
        record["ends_iteration"] = True
    if breaks_loop:
        record["breaks_loop"] = True
    return record


def iteration_record(iteration: int) -> dict[str, Any]:
    """The record saying that loop iteration ``iteration`` (1, 2, ...) finished."""
    return {"kind": "iteration", "iteration": iteration}


def snapshot_record(progress: Mapping[str, Any]) -> dict[str, Any]:
    """The record standing for a whole-progress checkpoint of an older llmspell."""
    return {"kind": "snapshot", "progress": progress}


def replay(records: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The progress ``records`` rebuild, applied in order, as ``WorkflowRun`` restores it:
    ``{input, shared, outputs, final, completed, steps, branch, iterations, loop_broken}``
    (``loop_broken``: a step broke the loop); ``None`` without records. A snapshot, or a record
    carrying the run's input (the first record of a run), starts the progress anew: a run id
    used again without resuming starts over."""
    progress: Progress | None = None
    for record in records:
        if record.get("kind") == "snapshot":
            progress = Progress(record["progress"])
            continue
        if progress is None or "input" in record:
            progress = Progress()
        progress.apply(record)
    return None if progress is None else progress.to_dict()


class Progress:
    """A run's progress while its records are replayed."""

    def __init__(self, snapshot: Mapping[str, Any] | None = None) -> None:
        saved = snapshot or {}
        self.input: Any = saved.get("input")
        self.shared: dict[str, Any] = saved.get("shared", {})
        self.outputs: dict[str, Any] = saved.get("outputs", {})
        self.final: Any = saved.get("final")
        self.completed: dict[str, dict[str, Any]] = saved.get("completed", {})
        self.steps: list[dict[str, Any]] = saved.get("steps", [])
        self.branch: int | None = saved.get("branch")
        self.iterations: list[dict[str, Any]] = saved.get("iterations", [])
        self.loop_broken: bool = saved.get("loop_broken", False)
        self._unfinished: dict[int, dict[str, Any]] = {}
        """The outputs of loop iterations that have not finished, by iteration."""
        for entry in self.steps:  # a snapshot taken in the middle of an iteration
            iteration = entry.get("iteration")
            if iteration is None or iteration <= len(self.iterations):
                continue
            done = self.completed.get(f"{entry['name']}#{iteration}")
            if done is not None and done["success"]:
                self._unfinished.setdefault(iteration, {})[entry["name"]] = done["output"]

    def apply(self, record: Mapping[str, Any]) -> None:
        """Replay one step or iteration record."""
        if "input" in record:
            self.input = record["input"]
        kind = record.get("kind")
        if kind == "step":
            self._step(record)
        elif kind == "iteration":
            self.iterations.append(self._unfinished.pop(record["iteration"], {}))
        else:
            raise StateError(f"checkpoint record of unknown kind {kind!r}; it cannot be resumed")

    def _step(self, record: Mapping[str, Any]) -> None:
        entry = record["step"]
        self.shared = record["shared"]
        if "branch" in record:
            self.branch = record["branch"]
        self.steps.append(entry)
        if entry["success"]:
            name, output = entry["name"], record.get("output")
            self.completed[record["key"]] = {"success": True, "output": output}
            self.outputs[name] = output
            self.final = output
            if "iteration" in entry:
                self._unfinished.setdefault(entry["iteration"], {})[name] = output
        else:
            self.completed[record["key"]] = {"success": False}
        if record.get("ends_iteration"):
            self.iterations.append(self._unfinished.pop(entry["iteration"], {}))
        if record.get("breaks_loop"):
            self.loop_broken = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "shared": self.shared,
            "outputs": self.outputs,
            "final": self.final,
            "completed": self.completed,
            "steps": self.steps,
            "branch": self.branch,
            "iterations": self.iterations,
            "loop_broken": self.loop_broken,
        }
