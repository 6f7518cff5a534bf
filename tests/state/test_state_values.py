from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell.core.errors import ValidationError
from llmspell.state.state import StateStore, make_scope, normalize_scope
from llmspell.state.store import Store, open_store

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 == 1.0 is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a == 0.0:
        return math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_any_json_value_round_trips_exactly(value: Any) -> None:
    with open_store(memory=True) as store:
        state = StateStore(store)
        state.save("global", "v", value)
        assert same(state.load("global", "v"), value)


def test_integers_stay_integers_and_floats_stay_floats(store: Store) -> None:
    state = StateStore(store)
    state.save("global", "n", {"int": 14, "float": 14.0, "big": 2**63 + 1, "neg0": -0.0})
    loaded = state.load("global", "n")
    assert same(loaded, {"int": 14, "float": 14.0, "big": 2**63 + 1, "neg0": -0.0})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({1, 2}, "value is a set"),
        ((1, 2), "value is a tuple"),
        ({"a": [1, float("nan")]}, "value.a[1] is nan"),
        ({"a": float("inf")}, "value.a is inf"),
        ({1: "x"}, "has a key 1 of type int"),
        (b"raw", "value is a bytes"),
        ({"deep": object()}, "value.deep is a object"),
    ],
)
def test_non_json_values_are_refused_naming_the_key(
    store: Store, value: Any, fragment: str
) -> None:
    with pytest.raises(ValidationError) as info:
        StateStore(store).save("agent:writer", "draft", value)
    message = str(info.value)
    assert "state key 'draft' in scope 'agent:writer'" in message
    assert fragment in message
    assert StateStore(store).load("agent:writer", "draft") is None


def test_cyclic_values_are_refused(store: Store) -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(ValidationError, match="nested too deeply"):
        StateStore(store).save("global", "loop", cyclic)


def test_load_missing_gives_the_default(store: Store) -> None:
    state = StateStore(store)
    assert state.load("global", "absent") is None
    assert state.load("global", "absent", default=7) == 7


@pytest.mark.parametrize(
    ("scope", "canonical"),
    [
        ("global", "global"),
        ("custom:app", "custom:app"),
        ("workflow:wf_1", "workflow:wf_1"),
        ("agent:writer", "agent:writer"),
        ("tool:calculator", "tool:calculator"),
        ("session:s1", "session:s1"),
        ("myapp", "custom:myapp"),
        ("user:alice", "custom:user:alice"),
    ],
)
def test_scopes_are_normalised(scope: str, canonical: str) -> None:
    assert normalize_scope(scope) == canonical


@pytest.mark.parametrize(
    ("scope", "fragment"),
    [
        ("", "printable characters"),
        ("agent:", "needs a name"),
        ("workflow", "needs a name"),
        ("global:x", "'global' takes no name"),
        ("bad\nscope", "printable characters"),
        (5, "scope must be a string"),
    ],
)
def test_invalid_scopes_are_refused(scope: Any, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        normalize_scope(scope)


def test_make_scope() -> None:
    assert make_scope("agent", "writer") == "agent:writer"
    with pytest.raises(ValidationError, match="scope kind 'robot' is unknown"):
        make_scope("robot", "x")


def test_free_scope_names_share_the_custom_scope(store: Store) -> None:
    state = StateStore(store)
    state.save("myapp", "k", 1)
    assert state.load("custom:myapp", "k") == 1
    assert state.scopes() == ["custom:myapp"]


def test_keys_are_validated(store: Store) -> None:
    with pytest.raises(ValidationError, match="state key must be a string"):
        StateStore(store).save("global", 3, "x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="1 to 1024 characters"):
        StateStore(store).save("global", "", "x")


def test_list_delete_and_clear(store: Store) -> None:
    state = StateStore(store)
    for key in ("user.name", "user.age", "user%x", "usr", "other"):
        state.save("global", key, key)
    state.save("agent:a", "user.name", "kept")
    assert state.list_keys("global") == ["other", "user%x", "user.age", "user.name", "usr"]
    assert state.list_keys("global", prefix="user.") == ["user.age", "user.name"]
    assert state.list_keys("global", prefix="user%") == ["user%x"]
    assert state.delete("global", "usr") is True
    assert state.delete("global", "usr") is False
    assert state.clear("global") == 4
    assert state.list_keys("global") == []
    assert state.load("agent:a", "user.name") == "kept"


def test_export_and_import_round_trip(store: Store) -> None:
    state = StateStore(store)
    state.save("global", "a", {"x": [1, 2.5]})
    state.save("tool:calc", "last", 8)
    exported = state.export()
    assert exported == {"global": {"a": {"x": [1, 2.5]}}, "tool:calc": {"last": 8}}
    assert state.export("tool:calc") == {"tool:calc": {"last": 8}}
    with open_store(memory=True) as other:
        assert StateStore(other).import_(exported) == 2
        assert StateStore(other).export() == exported


def test_import_is_all_or_nothing(store: Store) -> None:
    state = StateStore(store)
    with pytest.raises(ValidationError, match="state key 'bad' in scope 'global'"):
        state.import_({"custom:a": {"ok": 1}, "global": {"bad": {1, 2}}})
    with pytest.raises(ValidationError, match="scope 'global' must map keys to values"):
        state.import_({"global": [1]})
    assert state.export() == {}
