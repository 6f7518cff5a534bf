"""The environment a script sees: exactly the spec's standard library, nothing more."""

from __future__ import annotations

import pytest

FORBIDDEN = [
    "debug",
    "python",
    "dofile",
    "loadfile",
    "io.open",
    "io.popen",
    "io.lines",
    "os.execute",
    "os.remove",
    "os.rename",
    "os.tmpname",
    "string.dump",
    "package.loadlib",
    "package.searchers",
    "package.cpath",
    "warn",
]


@pytest.mark.parametrize("name", FORBIDDEN)
def test_forbidden_names_are_absent(run, name):
    parts = name.split(".")
    lookup = parts[0] + "".join(f"[{p!r}]".replace("'", '"') for p in parts[1:])
    result = run(f"local ok, v = pcall(function() return {lookup} end) return v == nil")
    assert result.status == "ok", result.error
    assert result.value is True


ALLOWED = [
    "print",
    "pairs",
    "ipairs",
    "pcall",
    "xpcall",
    "error",
    "assert",
    "select",
    "type",
    "tostring",
    "tonumber",
    "setmetatable",
    "getmetatable",
    "rawget",
    "rawset",
    "rawequal",
    "rawlen",
    "next",
    "load",
    "require",
    "string.format",
    "string.rep",
    "table.concat",
    "table.sort",
    "math.floor",
    "utf8.char",
    "coroutine.create",
    "coroutine.wrap",
    "os.time",
    "os.clock",
    "os.date",
    "os.difftime",
    "os.getenv",
    "os.exit",
    "io.write",
    "io.read",
    "sleep",
    "spawn",
    "parallel",
    "JSON.parse",
    "Debug.info",
    "Config.get",
    "Streaming.create",
]


@pytest.mark.parametrize("name", ALLOWED)
def test_spec_library_is_present(run, name):
    result = run(f"return type({name})")
    assert result.value == "function", (name, result.error)


def test_string_metatable_leads_to_sandbox_copy(run):
    result = run('return ("x").dump == nil and getmetatable("") == false and ("ab"):upper()')
    assert result.value == "AB"


def test_string_metatable_cannot_be_changed(run):
    result = run('local mt = getmetatable("") return type(mt)')
    assert result.value == "boolean"


def test_binary_chunks_are_refused_by_load(run):
    result = run(
        'local f, err = load(string.char(27) .. "LuaT\\0\\25\\147\\r\\n\\26\\n") return err'
    )
    assert "SandboxViolation" in result.value


def test_binary_mode_is_refused_by_load(run):
    result = run('local f, err = load("return 1", "x", "b") return err')
    assert "SandboxViolation" in result.value


def test_binary_script_is_refused(host):
    result = host.run(b"\x1bLuaT\x00garbage", name="bin.lua")
    assert result.status == "error"
    assert result.error_kind == "sandbox_violation"


def test_load_text_gets_sandbox_env(run):
    result = run('local f = load("return debug, print ~= nil") return select(2, f())')
    assert result.value is True


def test_load_with_reader_function_cannot_smuggle_bytecode(run):
    result = run(
        'local parts = {string.char(27), "Lua"} local i = 0 '
        "local f, err = load(function() i = i + 1 return parts[i] end) return err"
    )
    assert result.status == "ok"
    assert "binary" in result.value


def test_gc_metamethod_refused(run):
    result = run("setmetatable({}, {__gc = function() end})")
    assert result.error_kind == "sandbox_violation"
    assert "script.lua:1:" in result.error


def test_collectgarbage_stop_refused(run):
    result = run('collectgarbage("stop")')
    assert result.error_kind == "sandbox_violation"


def test_collectgarbage_count_allowed(run):
    assert isinstance(run('return collectgarbage("count")').value, float)


def test_os_getenv_only_allow_listed(monkeypatch):
    from llmspell import Host

    monkeypatch.setenv("LLMSPELL_TEST_SECRET", "s3cret")
    monkeypatch.setenv("LLMSPELL_TEST_VISIBLE", "shown")
    host = Host({"security": {"env_allow": ["LLMSPELL_TEST_VISIBLE"]}})
    result = host.run(
        'return {os.getenv("LLMSPELL_TEST_SECRET") or "nil", os.getenv("LLMSPELL_TEST_VISIBLE")}'
    )
    assert result.value == ["nil", "shown"]


def test_os_exit_ends_script_not_host(run):
    result = run('print("before") os.exit(3) print("after")')
    assert result.exit_code == 3
    assert result.output == "before\n"
    assert result.cli_exit_code == 3


def test_os_exit_cannot_be_caught(run):
    result = run('pcall(os.exit, 0) print("after")')
    assert result.status == "ok"
    assert result.output == ""


def test_shebang_line_is_ignored(run):
    result = run("#!/usr/bin/env llmspell\nreturn debug_line_two_is_line_2 or 2")
    assert result.value == 2


def test_shebang_keeps_line_numbers(run):
    result = run("#!/usr/bin/env llmspell\n\nerror('x')")
    assert result.error.startswith("script.lua:3:")


def test_python_object_never_reachable_via_errors(run):
    result = run(
        "local ok, e = pcall(JSON.parse, 42) return {type(e), e:match('^ValidationError') ~= nil}"
    )
    assert result.value == ["string", True]


def test_host_function_errors_are_strings_with_kind(run):
    result = run('local ok, e = pcall(JSON.parse, "{bad") return e')
    assert result.value.startswith("ValidationError: JSON.parse:")


def test_uncaught_host_error_names_script_line(run):
    result = run('local x = 1\nJSON.parse("{bad")', name="my.lua")
    assert result.error.startswith("my.lua:2: ValidationError:")


def test_require_loads_module_from_script_folder(tmp_path, host):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "greet.lua").write_text("return {hi = function(n) return 'hi ' .. n end}")
    script = tmp_path / "main.lua"
    script.write_text(
        'local g = require("lib.greet") return g.hi("you") .. tostring(require("lib.greet") == g)'
    )
    assert host.run(str(script)).value == "hi youtrue"


def test_require_refuses_traversal(tmp_path, host):
    script = tmp_path / "main.lua"
    script.write_text('local ok, e = pcall(require, "..secret") return e')
    assert "invalid module name" in host.run(str(script)).value


def test_require_refuses_symlink_escape(tmp_path, host):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.lua").write_text("return 1")
    inside = tmp_path / "proj"
    inside.mkdir()
    (inside / "evil.lua").symlink_to(outside / "evil.lua")
    script = inside / "main.lua"
    script.write_text('local ok, e = pcall(require, "evil") return e')
    assert "SandboxViolation" in host.run(str(script)).value


def test_require_library_paths(tmp_path):
    from llmspell import Host

    lib = tmp_path / "libs"
    lib.mkdir()
    (lib / "util.lua").write_text("return {x = 5}")
    host = Host({"runtime": {"library_paths": [str(lib)]}})
    assert host.run('return require("util").x').value == 5


def test_method_called_with_dot_says_use_colon(run):
    result = run("local h = spawn(function() end) h.wait()")
    assert "must be called with ':'" in result.error


def test_string_rep_with_empty_unit_is_bounded(run):
    assert run('return string.rep("", 1e18)').value == ""


def test_string_rep_too_large_is_refused(run):
    result = run('return ("x"):rep(2^40)')
    assert result.error_kind == "sandbox_violation"


def test_table_move_huge_count_refused(run):
    result = run("table.move({}, 1, 1e12, 1)")
    assert result.error_kind == "sandbox_violation"


def test_nothing_carries_over_between_runs(host):
    host.run('string.upper = function() return "evil" end getmetatable = nil x_global = 1')
    result = host.run('return {("a"):upper(), type(getmetatable), x_global == nil}')
    assert result.value == ["A", "function", True]
