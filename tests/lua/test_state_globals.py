"""The ``State`` global: round trips of every value shape, scopes, errors, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest
from state_testkit import file_host, ok, opened

from llmspell import Host
from llmspell.state.state import StateStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def host(db: Path) -> Host:
    return file_host(db)


def test_values_round_trip_with_their_lua_types(host: Host, db: Path) -> None:
    script = """
    local saved = {
      int = 42, float = 14.0, negative = -0.5, yes = true, no = false, text = "héllo",
      bytes = "a\\0b", array = {1, "two", 3.5}, empty_table = {}, empty_array = JSON.array(),
      nested = {deep = {deeper = {list = {{x = 1}, {y = JSON.array()}}}}},
      with_null = {1, JSON.null, 3},
    }
    for key, value in pairs(saved) do State.save("global", key, value) end
    local got = {}
    for key in pairs(saved) do got[key] = State.load("global", key) end
    assert(math.type(got.int) == "integer", "int came back as " .. math.type(got.int))
    assert(math.type(got.float) == "float", "14.0 came back as " .. math.type(got.float))
    assert(next(got.empty_table) == nil and next(got.empty_array) == nil)
    assert(got.bytes == "a\\0b")
    assert(got.with_null[2] == JSON.null)
    return {
      json = JSON.stringify(got),
      empty_table = JSON.stringify(got.empty_table),
      empty_array = JSON.stringify(got.empty_array),
      nested_empty = JSON.stringify(got.nested.deep.deeper.list[2].y),
    }
    """
    value = ok(host.run(script))
    assert value["empty_table"] == "{}"
    assert value["empty_array"] == "[]"
    assert value["nested_empty"] == "[]"
    assert '"float":14.0' in value["json"] and '"int":42' in value["json"]
    with opened(db) as store:
        state = StateStore(store)
        assert state.load("global", "float") == 14.0
        assert isinstance(state.load("global", "float"), float)
        assert state.load("global", "array") == [1, "two", 3.5]
        assert state.load("global", "empty_table") == {}
        assert state.load("global", "empty_array") == []
        assert state.load("global", "with_null") == [1, None, 3]


def test_binary_strings_round_trip(host: Host, db: Path) -> None:
    script = """
    local data = {blob = "\\255\\0\\254 end", text = "é"}
    State.save("global", "bin", data)
    local back = State.load("global", "bin")
    return {back.blob == data.blob, back.text == data.text, #back.blob}
    """
    assert ok(host.run(script)) == [True, True, 7]
    with opened(db) as store:
        assert StateStore(store).load("global", "bin")["blob"] == "\udcff\x00\udcfe end"


def test_missing_key_is_nil_and_nil_value_loads_as_nil(host: Host) -> None:
    script = """
    State.save("global", "nothing", nil)
    return {State.load("global", "absent") == nil, State.load("global", "nothing") == nil}
    """
    assert ok(host.run(script)) == [True, True]


def test_scopes_and_helpers(host: Host, db: Path) -> None:
    script = """
    State.set("g", 1)
    State.save("myapp", "k", "custom")
    State.agent_set("writer", "style", "dry")
    State.agentSet("writer", "length", 200)
    State.tool_set("search", "cursor", 7)
    State.toolSet("search", "page", 2)
    State.save("workflow:wf1", "fetch", {rows = 3})
    return {
      g = State.get("g"),
      g_load = State.load("global", "g"),
      custom = State.load("custom:myapp", "k"),
      style = State.agent_get("writer", "style"),
      length = State.agentGet("writer", "length"),
      cursor = State.tool_get("search", "cursor"),
      page = State.toolGet("search", "page"),
      step = State.workflow_get("wf1", "fetch"),
      step_camel = State.workflowGet("wf1", "fetch"),
      keys = State.list_keys("agent:writer"),
      keys_camel = State.listKeys("tool:search"),
      none = State.list_keys("agent:nobody"),
    }
    """
    value = ok(host.run(script))
    assert value == {
        "g": 1,
        "g_load": 1,
        "custom": "custom",
        "style": "dry",
        "length": 200,
        "cursor": 7,
        "page": 2,
        "step": {"rows": 3},
        "step_camel": {"rows": 3},
        "keys": ["length", "style"],
        "keys_camel": ["cursor", "page"],
        "none": [],
    }
    with opened(db) as store:
        exported = StateStore(store).export()
    assert set(exported) == {
        "global",
        "custom:myapp",
        "agent:writer",
        "tool:search",
        "workflow:wf1",
    }


def test_delete(host: Host) -> None:
    script = """
    State.save("global", "k", 1)
    local first = State.delete("global", "k")
    local second = State.delete("global", "k")
    return {first, second, State.load("global", "k") == nil}
    """
    assert ok(host.run(script)) == [True, False, True]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'State.save("global", "draft", {meta = {1, 0/0}})',
            "ValidationError: State.save: state key 'draft' in scope 'global': value.meta[1] "
            "is nan",
        ),
        (
            'State.save("global", "sparse", {[1] = "a", [3] = "c"})',
            "ValidationError: State.save: state key 'sparse' in scope 'global': value has a key "
            "1 of type int; table keys must be strings",
        ),
        (
            'State.save("global", "fn", {f = function() end})',
            "ValidationError: State.save: argument #3.f: a function cannot be passed here",
        ),
        ("State.save(nil, 'k', 1)", "ValidationError: State.save: scope must be a string"),
        ("State.load('global', 5)", "ValidationError: State.load: state key must be a string"),
        ("State.set('', 1)", "ValidationError: State.set: state key '' must be 1 to"),
        ("State.agent_set(3, 'k', 1)", "ValidationError: State.agent_set: agent name"),
        ("State.list_keys('global:x')", "ValidationError: State.list_keys: scope 'global:x'"),
    ],
)
def test_errors_name_the_call_and_the_key(host: Host, call: str, message: str) -> None:
    result = host.run(f"local ok, err = pcall(function() {call} end)\nreturn err")
    assert message in ok(result)


def test_uncaught_error_points_at_the_script_line(host: Host) -> None:
    result = host.run('local x = 1\nState.save("global", "bad", 0/0)\n', name="job.lua")
    assert result.status == "error" and result.error_kind == "runtime"
    assert result.error is not None and result.error.startswith("job.lua:2: ValidationError:")
    assert "state key 'bad'" in result.error


def test_state_survives_between_hosts_on_one_file(db: Path) -> None:
    count = "local n = (State.get('count') or 0) + 1\nState.set('count', n)\nreturn n"
    assert ok(file_host(db).run(count)) == 1
    assert ok(file_host(db).run(count)) == 2
    assert ok(file_host(db).run("return State.get('count')")) == 2


def test_memory_storage_forgets_between_hosts() -> None:
    def memory_host() -> Host:
        return Host({"storage": {"backend": "memory"}})

    assert ok(memory_host().run("State.set('k', 1) return State.get('k')")) == 1
    assert ok(memory_host().run("return State.get('k')")) is None


def test_runs_of_one_host_share_its_store() -> None:
    host = Host({"storage": {"backend": "memory"}})
    ok(host.run("State.set('k', {a = 1})"))
    assert ok(host.run("return State.get('k')")) == {"a": 1}
