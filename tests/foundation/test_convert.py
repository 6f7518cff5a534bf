"""Values cross the bridge as plain data."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("lua", "expected"),
    [
        ("return 14", 14),
        ("return 14.0", 14.0),
        ("return 'héllo'", "héllo"),
        ("return {1, 2, 3}", [1, 2, 3]),
        ("return {a = 1, b = {c = true}}", {"a": 1, "b": {"c": True}}),
        ("return {}", {}),
        ("return JSON.array()", []),
        ("return {[1] = 'a', [3] = 'c'}", {1: "a", 3: "c"}),
        ("return {JSON.null}", [None]),
        ("return nil", None),
    ],
)
def test_return_values(run, lua, expected):
    result = run(lua)
    assert result.value == expected
    assert type(result.value) is type(expected)


def test_integer_float_distinction_through_json(run):
    assert run("return JSON.stringify({a = 14, b = 14.0})").value == '{"a":14,"b":14.0}'


def test_json_round_trip(run):
    result = run(
        'local t = JSON.parse(\'{"a":[1,2,{"b":null}],"c":"x","d":[]}\') return JSON.stringify(t)'
    )
    assert result.value == '{"a":[1,2,{"b":null}],"c":"x","d":[]}'


def test_json_aliases_and_pretty(run):
    result = run("return JSON.encode(JSON.decode('{\"a\":1}'), {pretty = true})")
    assert result.value == '{\n  "a": 1\n}'


def test_json_parse_error_names_position(run):
    result = run('local ok, e = pcall(JSON.parse, "{\\n  bad") return e')
    assert "line 2" in result.value


def test_json_stringify_rejects_functions(run):
    result = run("local ok, e = pcall(JSON.stringify, {f = print}) return e")
    assert "function" in result.value


def test_cycle_is_reported_not_looping(run):
    result = run("local t = {} t.self = t local ok, e = pcall(JSON.stringify, t) return e")
    assert "cycle" in result.value


def test_non_utf8_string_round_trips(run):
    result = run("local s = string.char(255, 0, 254) return JSON.parse(JSON.stringify(s)) == s")
    assert result.value is True


def test_metamethods_not_run_when_converting(run):
    result = run(
        "local hits = 0 local t = setmetatable({x = 1}, {__index = function() hits = hits + 1 end, "
        "__pairs = function() error('no') end}) JSON.stringify(t) return hits"
    )
    assert result.value == 0


def test_unconvertible_return_value_is_described(run):
    result = run("return {f = print}")
    assert result.status == "ok"
    assert "function" in result.value
