import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell_utils.jsonutil import dump_toml, dumps, load_toml, loads, loads_toml

# --- JSON -------------------------------------------------------------------------------------


def test_dumps_is_compact_sorted_and_keeps_unicode() -> None:
    assert dumps({"b": 1, "a": [1, 2], "é": "ü"}) == '{"a":[1,2],"b":1,"é":"ü"}'


def test_dumps_is_deterministic_across_insertion_order() -> None:
    assert dumps({"x": 1, "y": {"b": 2, "a": 1}}) == dumps({"y": {"a": 1, "b": 2}, "x": 1})


def test_dumps_pretty() -> None:
    assert dumps({"b": [1], "a": 1}, pretty=True) == '{\n  "a": 1,\n  "b": [\n    1\n  ]\n}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_dumps_rejects_non_finite_floats(bad: float) -> None:
    with pytest.raises(ValueError):
        dumps({"v": bad})


def test_loads_parses_text_and_bytes() -> None:
    assert loads('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert loads(b'{"a": 1}') == {"a": 1}


def test_loads_error_names_line_and_column() -> None:
    with pytest.raises(ValueError, match="line 2, column 8") as info:
        loads('{"a": 1,\n  "b": }')
    assert type(info.value) is ValueError


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_loads_rejects_non_finite_constants(constant: str) -> None:
    with pytest.raises(ValueError, match=constant):
        loads(f'{{"v": {constant}}}')


# --- TOML reading -----------------------------------------------------------------------------


def test_loads_toml() -> None:
    assert loads_toml('a = 1\n[t]\nb = "x"\n') == {"a": 1, "t": {"b": "x"}}


def test_loads_toml_error_names_the_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        loads_toml("a = 1\nb = \n")


def test_load_toml_reads_a_file_and_names_it_on_error(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("[runtime]\ncpu_seconds = 5\n")
    assert load_toml(good) == {"runtime": {"cpu_seconds": 5}}
    bad = tmp_path / "bad.toml"
    bad.write_text("[runtime\n")
    with pytest.raises(ValueError, match=r"bad\.toml: invalid TOML"):
        load_toml(bad)


# --- TOML writing -----------------------------------------------------------------------------


def test_dump_toml_writes_a_config_file() -> None:
    data = {
        "default_provider": "local",
        "runtime": {"cpu_seconds": 30.0, "isolation": "in-process", "library_paths": []},
        "providers": {
            "local": {"base_url": "http://127.0.0.1:8080/v1", "api_key": None, "timeout": 60},
            "openai": {"api_key_env": "OPENAI_API_KEY"},
        },
        "mcp": {"servers": [{"name": "fs", "args": ["--root", "."]}, {"name": "git"}]},
    }
    assert dump_toml(data) == (
        'default_provider = "local"\n'
        "\n"
        "[runtime]\n"
        "cpu_seconds = 30.0\n"
        'isolation = "in-process"\n'
        "library_paths = []\n"
        "\n"
        "[providers.local]\n"
        'base_url = "http://127.0.0.1:8080/v1"\n'
        "timeout = 60\n"
        "\n"
        "[providers.openai]\n"
        'api_key_env = "OPENAI_API_KEY"\n'
        "\n"
        "[[mcp.servers]]\n"
        'name = "fs"\n'
        'args = ["--root", "."]\n'
        "\n"
        "[[mcp.servers]]\n"
        'name = "git"\n'
    )


def test_dump_toml_quotes_keys_and_escapes_strings() -> None:
    data = {"a b": 'say "hi"\n\ttab\\\x01', "table.with.dots": {"ok": True}}
    text = dump_toml(data)
    assert '"a b" = "say \\"hi\\"\\n\\ttab\\\\\\u0001"' in text
    assert '["table.with.dots"]' in text
    assert loads_toml(text) == data


def test_dump_toml_keeps_empty_tables_and_non_finite_floats() -> None:
    data = {"empty": {}, "nested": {"only_none": None}, "f": [math.inf, -math.inf]}
    assert loads_toml(dump_toml(data)) == {"empty": {}, "nested": {}, "f": [math.inf, -math.inf]}
    assert math.isnan(loads_toml(dump_toml({"n": math.nan}))["n"])


def test_dump_toml_inline_tables_inside_mixed_arrays() -> None:
    data = {"steps": [1, {"name": "a", "opts": {"x": 1}}, [True, "s"]]}
    assert loads_toml(dump_toml(data)) == data


def test_dump_toml_empty_document() -> None:
    assert dump_toml({}) == ""


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"t": {"when": object()}}, "t.when"),
        ({"t": {"items": [1, None]}}, "t.items"),
        ({"s": {1, 2}}, "s"),
    ],
)
def test_dump_toml_rejects_unsupported_values(data: dict[str, Any], where: str) -> None:
    with pytest.raises(TypeError, match=f"'{where}'"):
        dump_toml(data)


def test_dump_toml_rejects_non_string_keys() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        dump_toml({"t": {1: "x"}})


scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
keys = st.text(max_size=8)


def documents() -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=12,
    )
    return st.dictionaries(keys, values, max_size=5)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_dump_toml_round_trips(data: dict[str, Any]) -> None:
    assert loads_toml(dump_toml(data)) == data
