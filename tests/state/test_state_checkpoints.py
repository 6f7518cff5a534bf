from __future__ import annotations

import pytest

from llmspell.core.errors import StateError, ValidationError
from llmspell.state.checkpoints import CheckpointStore, checksum
from llmspell.state.runs import RunStore
from llmspell.state.store import Store

PAYLOAD = {"completed": ["fetch"], "outputs": {"fetch": {"n": 3}}, "shared": {}, "loop": None}


def test_save_and_load_the_latest(store: Store) -> None:
    run_id = RunStore(store).create("workflow")["id"]
    checkpoints = CheckpointStore(store)
    assert checkpoints.load_latest(run_id, "h1") is None
    assert checkpoints.save_checkpoint(run_id, "h1", PAYLOAD) == 1
    second = {**PAYLOAD, "completed": ["fetch", "parse"]}
    assert checkpoints.save_checkpoint(run_id, "h1", second) == 2
    assert checkpoints.load_latest(run_id, "h1") == second
    listed = checkpoints.list(run_id)
    assert [(c["sequence"], c["workflow_hash"], c["schema_version"]) for c in listed] == [
        (1, "h1", 1),
        (2, "h1", 1),
    ]


def test_only_the_newest_are_kept(store: Store) -> None:
    checkpoints = CheckpointStore(store, keep=2)
    for step in range(5):
        checkpoints.save_checkpoint("run_x", "h", {"step": step})
    assert [c["sequence"] for c in checkpoints.list("run_x")] == [4, 5]
    assert checkpoints.load_latest("run_x", "h") == {"step": 4}


def test_a_checkpoint_creates_its_run_record(store: Store) -> None:
    CheckpointStore(store).save_checkpoint("run_embedded", "h", PAYLOAD)
    run = RunStore(store).get("run_embedded")
    assert run is not None
    assert (run["kind"], run["status"]) == ("workflow", "running")


def test_a_corrupted_checkpoint_is_reported(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    for _ in range(4):
        checkpoints.save_checkpoint("run_c", "h", PAYLOAD)
    store.execute(
        "UPDATE checkpoints SET payload = replace(payload, '3', '4') "
        "WHERE run_id = 'run_c' AND sequence = 4"
    )
    with pytest.raises(StateError, match="checkpoint 4 of run_c is corrupted"):
        checkpoints.load_latest("run_c", "h")


def test_a_checkpoint_of_another_format_is_reported(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    checkpoints.save_checkpoint("run_f", "h", PAYLOAD)
    payload = store.fetch_one("SELECT payload FROM checkpoints")[0]
    store.execute(
        "UPDATE checkpoints SET schema_version = 2, checksum = ?", (checksum(2, "h", payload),)
    )
    with pytest.raises(StateError, match="checkpoint 1 of run_f has format version 2"):
        checkpoints.load_latest("run_f", "h")


def test_a_changed_workflow_is_reported(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    checkpoints.save_checkpoint("run_w", "abc", PAYLOAD)
    with pytest.raises(StateError, match="workflow definition changed since the checkpoint"):
        checkpoints.load_latest("run_w", "def")


def test_definition_and_input(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    definition = {"name": "wf", "type": "sequential", "steps": [{"name": "a", "type": "tool"}]}
    checkpoints.save_definition("run_d", "h", definition, {"topic": "x"})
    loaded = checkpoints.load_definition("run_d")
    assert loaded is not None
    assert (loaded["workflow_hash"], loaded["definition"], loaded["input"]) == (
        "h",
        definition,
        {"topic": "x"},
    )
    assert checkpoints.load_definition("run_none") is None


def test_invalid_payloads_and_deletion(store: Store) -> None:
    checkpoints = CheckpointStore(store)
    with pytest.raises(ValidationError, match="checkpoint payload of run run_i"):
        checkpoints.save_checkpoint("run_i", "h", {"fn": print})
    with pytest.raises(ValidationError, match="workflow_hash"):
        checkpoints.save_checkpoint("run_i", "", PAYLOAD)
    checkpoints.save_checkpoint("run_i", "h", PAYLOAD)
    checkpoints.save_checkpoint("run_i", "h", PAYLOAD)
    assert checkpoints.delete("run_i", 2) == 1
    assert checkpoints.load_latest("run_i", "h") == PAYLOAD
    assert checkpoints.delete("run_i") == 1
    assert checkpoints.load_latest("run_i", "h") is None
    with pytest.raises(ValidationError, match="keep must be at least 1"):
        CheckpointStore(store, keep=0)
