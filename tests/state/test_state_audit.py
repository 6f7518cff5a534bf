from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell.core.errors import ValidationError
from llmspell.state.audit import MAX_STRING, AuditLog, new_entry, row_hash
from llmspell.state.store import Store
from llmspell_utils import jsonutil


def fill(log: AuditLog, count: int = 5) -> None:
    for i in range(count):
        log.append(
            "tool.execute",
            actor="tool:calculator",
            outcome="success",
            arguments={"input": f"{i} + 1"},
            run_id="run_a" if i % 2 else "run_b",
            duration_ms=i,
        )


def test_appends_chain_and_verify(store: Store) -> None:
    log = AuditLog(store)
    assert log.verify() == (True, None, "0 audit rows verified")
    fill(log)
    records = log.list()
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(records))
    assert records[2]["arguments"] == {"input": "2 + 1"}
    assert records[2]["duration_ms"] == 2.0
    assert log.verify() == (True, None, "5 audit rows verified")


def test_list_filters_and_limits(store: Store) -> None:
    log = AuditLog(store)
    fill(log)
    assert [r["seq"] for r in log.list(run_id="run_a")] == [2, 4]
    assert [r["seq"] for r in log.list(limit=2)] == [4, 5]
    log.append("agent.execute", actor="agent:w", outcome="error", session_id="s1")
    assert [r["seq"] for r in log.list(session_id="s1")] == [6]


def test_secrets_are_redacted_and_long_values_shortened(store: Store) -> None:
    log = AuditLog(store)
    record = log.append(
        "agent.execute",
        actor="agent:w",
        outcome="success",
        arguments={
            "api_key": "sk-secret",
            "nested": {"password": "hunter2", "user": "me"},
            "text": "x" * (MAX_STRING + 10),
            "blob": b"\x00" * 3,
            "when": {1, 2},
        },
    )
    stored = log.list()[0]["arguments"]
    assert stored == record["arguments"]
    assert stored["api_key"] == "***"
    assert stored["nested"] == {"password": "***", "user": "me"}
    assert stored["text"].endswith("… (10 more characters)")
    assert stored["blob"] == "<3 bytes>"
    assert stored["when"] == "{1, 2}"
    assert "sk-secret" not in str(tuple(store.fetch_all("SELECT * FROM audit_log")[0]))


def test_an_edited_row_is_detected(store: Store) -> None:
    log = AuditLog(store)
    fill(log)
    store.execute("UPDATE audit_log SET outcome = 'error' WHERE seq = 3")
    ok, seq, reason = log.verify()
    assert (ok, seq) == (False, 3)
    assert "audit row 3 was modified" in reason


def test_an_edited_and_rehashed_row_is_detected(store: Store) -> None:
    log = AuditLog(store)
    fill(log)
    found = store.fetch_one("SELECT * FROM audit_log WHERE seq = 3")
    assert found is not None
    row = dict(found)
    row["outcome"] = "error"
    store.execute(
        "UPDATE audit_log SET outcome = 'error', hash = ? WHERE seq = 3", (row_hash(row),)
    )
    ok, seq, reason = log.verify()
    assert (ok, seq) == (False, 4)
    assert "does not follow row 3" in reason


@pytest.mark.parametrize(
    ("deleted", "bad", "fragment"),
    [
        ((3,), 3, "audit row 3 was deleted"),
        ((1,), 1, "audit row 1 was deleted"),
        ((2, 3), 2, "audit rows 2 to 3 were deleted"),
        ((5,), 5, "audit row 5 was deleted"),
        ((4, 5), 4, "audit rows 4 to 5 were deleted"),
    ],
)
def test_a_deleted_row_is_detected(
    store: Store, deleted: tuple[int, ...], bad: int, fragment: str
) -> None:
    log = AuditLog(store)
    fill(log)
    for gone in deleted:
        store.execute("DELETE FROM audit_log WHERE seq = ?", (gone,))
    ok, seq, reason = log.verify()
    assert (ok, seq) == (False, bad)
    assert fragment in reason


def test_appending_after_a_deleted_last_row_keeps_the_gap_visible(store: Store) -> None:
    log = AuditLog(store)
    fill(log, 3)
    store.execute("DELETE FROM audit_log WHERE seq = 3")
    log.append("tool.execute", actor="tool:x", outcome="success")
    ok, seq, _ = log.verify()
    assert (ok, seq) == (False, 3)


def test_invalid_fields(store: Store) -> None:
    with pytest.raises(ValidationError, match="audit actor must be a non-empty string"):
        AuditLog(store).append("tool.execute", actor="", outcome="success")


def test_entries_are_chained_and_written_in_one_batch(store: Store) -> None:
    log = AuditLog(store)
    fill(log, 2)
    entries = [
        new_entry("tool.execute", actor="tool:x", outcome="success", arguments={"i": i})
        for i in range(3)
    ]
    log.append_entries(entries)
    assert [e["seq"] for e in entries] == [3, 4, 5]
    assert [r["arguments"] for r in log.list()[2:]] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert log.verify() == (True, None, "5 audit rows verified")


def test_an_entry_keeps_the_arguments_it_was_made_with() -> None:
    params = {"input": "1"}
    entry = new_entry("tool.execute", actor="tool:x", outcome="success", arguments=params)
    params["input"] = "2"
    assert entry["arguments"] == '{"input":"1"}'


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(),
    optional=st.none() | st.text(),
    seq=st.integers(1, 2**62),
    when=st.floats(allow_nan=False, allow_infinity=False),
    duration=st.none() | st.floats(allow_nan=False, allow_infinity=False),
)
def test_the_hash_covers_the_canonical_json_of_the_row(
    text: str, optional: str | None, seq: int, when: float, duration: float | None
) -> None:
    row: dict[str, Any] = {
        "seq": seq,
        "time": when,
        "run_id": optional,
        "session_id": optional,
        "actor": text or "a",
        "action": "tool.execute",
        "arguments": jsonutil.dumps({"text": text}),
        "outcome": text + '\n"é\u2028',
        "duration_ms": duration,
        "prev_hash": "f" * 64,
    }
    canonical = jsonutil.dumps({key: row[key] for key in row})
    expected = hashlib.sha256((row["prev_hash"] + canonical).encode()).hexdigest()
    assert row_hash(row) == expected
    assert row_hash({**row, "seq": True}) != expected  # other types take the generic path


def test_variable_names_and_empty_secrets_are_kept(store: Store) -> None:
    record = AuditLog(store).append(
        "tool.execute",
        actor="tool:x",
        outcome="success",
        arguments={"api_key_env": "OPENAI_KEY", "token": "", 3: "x", "list": [{"Password": 1}]},
    )
    assert record["arguments"] == {
        "api_key_env": "OPENAI_KEY",
        "token": "",
        "3": "x",
        "list": [{"Password": "***"}],
    }
