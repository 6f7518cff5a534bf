"""The ``Workflow`` global: builder and table forms, each type, data flow, errors, registry."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from llmspell import Host
from llmspell.core.config import load_config
from llmspell.core.result import RunResult
from llmspell.state.state import StateStore


@pytest.fixture
def host() -> Host:
    return Host(load_config({"storage": {"backend": "memory"}}, environ={}))


def ok(result: RunResult) -> Any:
    assert result.status == "ok", result.error
    return result.value


def test_sequential_table_form_with_references_of_every_kind(host: Host) -> None:
    value = ok(
        host.run(
            """
            local wf = Workflow.sequential{
              name = "pipeline",
              steps = {
                {name = "shout", type = "tool", tool = "text-manipulator",
                 input = {operation = "uppercase", input = "{{input.text}}"}},
                {name = "count", tool = "calculator",
                 input = {operation = "evaluate", input = "{{input.n}} * 2"}},
                {name = "join", type = "function", fn = function(ctx)
                  return {shout = ctx.params.a, n = ctx.params.n, again = ctx.params.b}
                end,
                 input = {a = "{{steps.shout.output.result}}",
                          n = "{{step_2_output.result.result}}",
                          b = "said {{step_1_output.result}}"}},
              },
            }
            local r = wf:execute({text = "hi", n = 21})
            return {success = r.success, text = r.text, final = r.final,
                    names = {r.steps[1].name, r.steps[2].name, r.steps[3].name},
                    total = r.metadata.total_steps, kind = r.metadata.workflow_type,
                    id = r.execution_id}
            """
        )
    )
    assert value["success"] is True
    assert value["text"] == "Sequential workflow 'pipeline' completed: 3/3 steps"
    assert value["final"] == {"shout": "HI", "n": 42, "again": "said HI"}
    assert value["names"] == ["shout", "count", "join"]
    assert (value["total"], value["kind"]) == (3, "sequential")
    assert value["id"].startswith("exec_")


def test_builder_with_every_setter_spelling(host: Host) -> None:
    value = ok(
        host.run(
            """
            local wf = Workflow.builder()
              :name("built"):description("a built workflow"):sequential()
              :errorStrategy("continue"):timeout(5)
              :add_step({name = "a", fn = function(ctx) return ctx.input * 2 end})
              :addStep({name = "bad", fn = function() error("boom") end})
              :add_step({name = "c", fn = function(ctx) return ctx.outputs.a + 1 end})
              :build()
            local r = wf:execute(20)
            local info = wf:get_info()
            return {success = r.success, text = r.text, c = wf:get_output("c"),
                    all = wf:getAllOutputs(), exec = wf:get_execution_id() == r.execution_id,
                    info = {name = info.name, description = info.description,
                            count = info.step_count, strategy = info.error_strategy,
                            timeout = info.timeout},
                    fields = {wf.name, wf.type, wf.description}, valid = wf:validate()}
            """
        )
    )
    assert value["success"] is True
    assert value["text"] == "Sequential workflow 'built' completed: 2/3 steps (1 failed)"
    assert value["c"] == 41
    assert value["all"] == {"a": 40, "c": 41}
    assert value["exec"] is True
    assert value["info"] == {
        "name": "built",
        "description": "a built workflow",
        "count": 3,
        "strategy": "continue",
        "timeout": 5.0,
    }
    assert value["fields"] == ["built", "sequential", "a built workflow"]
    assert value["valid"] == {"valid": True, "errors": []}


def test_parallel_steps_really_run_concurrently(host: Host) -> None:
    script = """
    local steps = {}
    for i = 1, 10 do
      steps[i] = {name = "s" .. i, fn = function() sleep(0.1) return i end}
    end
    local wf = Workflow.parallel{name = "fan", steps = steps}
    local r = wf:execute()
    local limited = Workflow.builder():name("limited"):parallel():maxConcurrency(5)
    for i = 1, 10 do
      limited:add_step({name = "s" .. i, fn = function() sleep(0.1) return i end})
    end
    local r2 = limited:build():execute()
    return {r.success, r.outputs.s7, r.duration_ms, r2.success, r2.duration_ms}
    """
    started = time.perf_counter()
    success, seven, duration, limited_ok, limited_duration = ok(host.run(script))
    elapsed = time.perf_counter() - started
    assert success and limited_ok and seven == 7
    assert 95 <= duration < 450, duration  # 10 x 0.1 s at once, not 1 s
    assert 190 <= limited_duration < 650, limited_duration  # two waves of five
    assert elapsed < 2.5


def test_parallel_branches_and_fail_fast(host: Host) -> None:
    value = ok(
        host.run(
            """
            local wf = Workflow.parallel{
              name = "branches",
              branches = {
                {name = "left", steps = {
                  {name = "l1", fn = function() return 1 end},
                  {name = "l2", fn = function(ctx) return ctx.outputs.l1 + 10 end}}},
                {name = "right", steps = {{name = "r1", fn = function() return 2 end}}},
              },
            }
            local failing = Workflow.parallel{name = "ff", steps = {
              {name = "slow", fn = function() sleep(5) return "late" end},
              {name = "broken", fn = function() sleep(0.05) error("no luck") end},
            }}
            local r = wf:execute()
            local f = failing:execute()
            return {r.outputs.l2, r.outputs.r1, f.success, f.metadata.failed_step, f.error,
                    f.duration_ms}
            """
        )
    )
    l2, r1, success, failed_step, error, duration = value
    assert (l2, r1) == (11, 2)
    assert success is False and failed_step == "broken"
    assert "no luck" in error
    assert duration < 2000  # the slow sibling was cancelled


def test_conditional_with_function_and_table_conditions(host: Host) -> None:
    value = ok(
        host.run(
            """
            local wf = Workflow.conditional{
              name = "route",
              branches = {
                {name = "big", condition = function(ctx) return ctx.input.n > 10 end,
                 steps = {{name = "say_big", fn = function() return "big" end}}},
                {name = "mode",
                 condition = {type = "shared_data_equals", key = "mode", value = "x"},
                 steps = {{name = "say_mode", fn = function() return "mode" end}}},
                {name = "both", condition = {["and"] = {
                   {type = "input_equals", path = "kind", value = "k"},
                   {["not"] = {type = "never"}}}},
                 steps = {{name = "say_both", fn = function() return "both" end}}},
              },
              default = {{name = "say_default", fn = function() return "default" end}},
            }
            local out = {}
            out[1] = wf:execute({n = 50}).final
            wf:set_shared_data("mode", "x")
            out[2] = wf:execute({n = 1}).final
            wf:setSharedData("mode", "y")
            local r = wf:execute({n = 1, kind = "k"})
            out[3] = r.final
            out[4] = r.metadata.branch
            out[5] = wf:execute({n = 1}).final
            local b = Workflow.builder():name("b"):conditional()
              :condition({type = "input_equals", value = "yes"})
              :addThenStep({name = "t", fn = function() return "then" end})
              :add_else_step({name = "e", fn = function() return "else" end})
              :build()
            out[6] = b:execute("yes").final
            out[7] = b:execute("no").final
            return out
            """
        )
    )
    assert value == ["big", "mode", "both", "both", "default", "then", "else"]


def test_loops_over_iterations_collections_and_conditions(host: Host) -> None:
    value = ok(
        host.run(
            """
            local items = Workflow.loop{
              name = "items", collection = "{{input.words}}",
              body = {
                {name = "up", tool = "text-manipulator",
                 input = {operation = "uppercase", input = "{{loop.item}}"}},
                {name = "tag", fn = function(ctx) return ctx.iteration .. ":" .. ctx.item end},
              },
            }
            local r = items:execute({words = {"a", "b", "c"}})
            local counted = Workflow.builder():name("count"):loop():iterations(4)
              :add_step({name = "i", fn = function(ctx) return ctx.iteration * 10 end}):build()
            local c = counted:execute()
            local w = Workflow.builder():name("while"):loop()
              :while_condition(function(ctx) return (ctx.outputs.n or 0) < 3 end)
              :maxIterations(50)
              :add_step({name = "n", fn = function(ctx) return (ctx.outputs.n or 0) + 1 end})
              :build()
            local wr = w:execute()
            local capped = Workflow.loop{name = "capped", ["while"] = {type = "always"},
              max_iterations = 3, body = {{name = "x", fn = function() return 1 end}}}
            local cr = capped:execute()
            local broken = Workflow.builder():name("brk"):loop():collection({1, 2, 3, 4})
              :add_step({name = "b", fn = function(ctx)
                if ctx.item == 2 then return {["break"] = true} end
                return ctx.item
              end}):build()
            local br = broken:execute()
            return {
              tags = {r.iterations[1].tag, r.iterations[3].tag}, last_up = r.outputs.up.result,
              count = {c.metadata.iterations, c.outputs.i},
              while_ = {wr.metadata.iterations, wr.final},
              capped = {cr.metadata.iterations, cr.metadata.loop_exit},
              broken = {br.metadata.iterations, br.metadata.loop_exit},
            }
            """
        )
    )
    assert value["tags"] == ["1:a", "3:c"]
    assert value["last_up"] == "C"
    assert value["count"] == [4, 40]
    assert value["while_"] == [3, 3]
    assert value["capped"] == [3, "max_iterations"]
    assert value["broken"] == [2, "break"]


def test_function_steps_receive_ctx(host: Host) -> None:
    value = ok(
        host.run(
            """
            local seen
            local wf = Workflow.sequential{name = "ctx", shared = {seed = 7}, steps = {
              {name = "first", fn = function() return {x = 1} end},
              {name = "probe", input = {p = "{{input.q}}"}, fn = function(ctx)
                seen = {input = ctx.input, first = ctx.outputs.first, shared = ctx.shared,
                        step = ctx.step, params = ctx.params, workflow = ctx.workflow,
                        iteration = ctx.iteration}
                return true
              end},
            }}
            wf:set_shared_data("extra", "yes")
            wf:execute({q = "question"})
            return seen
            """
        )
    )
    assert value == {
        "input": {"q": "question"},
        "first": {"x": 1},
        "shared": {"seed": 7, "extra": "yes"},
        "step": "probe",
        "params": {"p": "question"},
        "workflow": "ctx",
    }


def test_state_references_read_the_global_scope(host: Host) -> None:
    StateStore(host.services.store).save("global", "greeting", {"word": "hola"})
    value = ok(
        host.run(
            """
            local wf = Workflow.sequential{name = "st", steps = {
              {name = "a", fn = function(ctx) return ctx.params end,
               input = {w = "{{state.greeting.word}}", whole = "{{state.greeting}}"}},
              {name = "b", fn = function(ctx) return ctx.params end, input = "{{state.missing}}"},
            }}
            local r = wf:execute()
            return {r.outputs.a, r.error}
            """
        )
    )
    assert value[0] == {"w": "hola", "whole": {"word": "hola"}}
    assert "step 'b'" in value[1] and "state key 'missing' is not set" in value[1]


def test_nested_workflows_and_registry_functions(host: Host) -> None:
    value = ok(
        host.run(
            """
            local inner = Workflow.sequential{name = "inner", steps = {
              {name = "double", fn = function(ctx) return ctx.input * 2 end}}}
            local outer = Workflow.sequential{name = "outer", steps = {
              {name = "run_inner", type = "workflow", workflow = inner, input = "{{input.n}}"},
              {name = "by_name", workflow = "inner", input = 5},
              {name = "table_form", workflow = {name = "t", steps = {
                 {name = "nested", type = "workflow", workflow = inner}}}, input = 1},
              {name = "sum", fn = function(ctx)
                return ctx.outputs.run_inner.final + ctx.outputs.by_name.final
                  + ctx.outputs.table_form.final.final
              end},
            }}
            local r = outer:execute({n = 21})
            local listed = {}
            for _, entry in ipairs(Workflow.list()) do listed[#listed + 1] = entry.name end
            local got = Workflow.get(inner.id)
            return {final = r.final, listed = listed, got = {got.id == inner.id, got.name},
                    by_name = Workflow.get("outer").id == outer.id,
                    missing = Workflow.get("nope") == nil, types = Workflow.types(),
                    got_runs = got:execute(4).final}
            """
        )
    )
    assert value["final"] == 42 + 10 + 2
    assert value["listed"] == ["inner", "outer"]
    assert value["got"] == [True, "inner"]
    assert value["by_name"] is True and value["missing"] is True
    assert value["types"] == ["sequential", "parallel", "conditional", "loop"]
    assert value["got_runs"] == 8


def test_step_errors_name_the_step(host: Host) -> None:
    value = ok(
        host.run(
            """
            local out = {}
            local tool = Workflow.sequential{name = "t", steps = {
              {name = "ok", fn = function() return 1 end},
              {name = "calc", tool = "calculator", input = {operation = "evaluate", input = "1 +"}},
            }}
            local r = tool:execute()
            out.tool = {r.success, r.metadata.failed_step, r.text}
            local lua = Workflow.sequential{name = "l", steps = {
              {name = "explode", fn = function() error("kaboom") end}}}
            out.lua = lua:execute().error
            local missing = Workflow.sequential{name = "m", steps = {
              {name = "needs", fn = function() return 1 end, input = "{{input.absent}}"}}}
            out.reference = missing:execute({}).error
            local ok1, e1 = pcall(Workflow.sequential, {name = "v", steps = {
              {name = "s", tool = "calculator", timout = 1}}})
            local ok2, e2 = pcall(Workflow.parallel, {name = "p", steps = {
              {name = "a", fn = function() end},
              {name = "b", fn = function() end, input = "{{steps.a.output}}"}}})
            local ok3, e3 = pcall(Workflow.loop, {name = "lp", body = {{name = "x", fn = print}}})
            out.build = {e1, e2, e3}
            local no_tool = Workflow.sequential{name = "nt", steps = {{name = "s", tool = "nope"}}}
            out.unknown_tool = no_tool:execute().error
            return out
            """
        )
    )
    success, failed_step, text = value["tool"]
    assert success is False and failed_step == "calc"
    assert text.startswith("Sequential workflow 't' failed at step 'calc'")
    assert value["lua"].startswith("ScriptError: ") and "kaboom" in value["lua"]
    assert "step 'needs'" in value["reference"] and "{{input.absent}}" in value["reference"]
    e1, e2, e3 = value["build"]
    assert e1.startswith("ValidationError: Workflow.sequential: workflow 'v', step 's':")
    assert "unknown field 'timout'" in e1
    assert "step 'b'" in e2 and "does not run before it" in e2
    assert "a loop needs exactly one of" in e3
    assert value["unknown_tool"].startswith("ToolNotFound:")


def test_uncaught_build_error_points_at_the_script_line(host: Host) -> None:
    result = host.run(
        'local x = 1\nlocal wf = Workflow.sequential{name = "w", steps = {}}\n', name="w.lua"
    )
    assert result.status == "error"
    assert result.error is not None and result.error.startswith(
        "w.lua:2: ValidationError: Workflow.sequential: workflow 'w': field 'steps'"
    )


def test_methods_called_with_a_dot_raise_a_clear_error(host: Host) -> None:
    value = ok(
        host.run(
            """
            local wf = Workflow.sequential{name = "d", steps = {{name = "a", fn = function() end}}}
            local errors = {}
            for _, call in ipairs({
              function() return wf.execute() end,
              function() return wf.get_info() end,
              function() return wf.getOutput("a") end,
              function() return Workflow.builder().name("x") end,
              function() return Workflow:sequential{name = "x"} end,
            }) do
              local ok, err = pcall(call)
              errors[#errors + 1] = err
            end
            return errors
            """
        )
    )
    assert "Workflow:execute must be called with ':'" in value[0]
    assert "Workflow:get_info must be called with ':'" in value[1]
    assert "Workflow:getOutput must be called with ':'" in value[2]
    assert "WorkflowBuilder:name must be called with ':'" in value[3]
    assert "use Workflow.sequential{...}, not Workflow:sequential{...}" in value[4]


def test_execute_options_are_checked(host: Host) -> None:
    value = ok(
        host.run(
            """
            local wf = Workflow.sequential{name = "o", steps = {{name = "a", fn = function() end}}}
            local _, e1 = pcall(function() return wf:execute(nil, {resume = "x"}) end)
            local _, e2 = pcall(function() return wf:execute(nil, {checkpoint = "no"}) end)
            local _, e3 = pcall(function()
              return wf:execute(nil, {resume_from = "run_x", checkpoint = false}) end)
            local _, e4 = pcall(function() return wf:execute(nil, {resume_from = "run_x"}) end)
            return {e1, e2, e3, e4}
            """
        )
    )
    assert "unknown option 'resume'" in value[0]
    assert "option 'checkpoint' must be a boolean" in value[1]
    assert "'resume_from' needs checkpoints" in value[2]
    assert value[3].startswith("NotFound: run 'run_x/o' not found")


def test_agent_steps_use_the_run_agents_seam(host: Host) -> None:
    class Agents:
        def __init__(self) -> None:
            self.calls: list[tuple[Any, Any]] = []

        async def execute(self, agent: Any, input: Any) -> dict[str, Any]:
            self.calls.append((agent, input))
            return {"text": f"answer to {input}", "metadata": {}}

    source = """
    local wf = Workflow.sequential{name = "ag", steps = {
      {name = "by_name", type = "agent", agent = "writer", input = "{{input.q}}"},
      {name = "by_instance", agent = Tool.get("calculator"),
       input = {text = "{{steps.by_name.output.text}}"}},
    }}
    local r = wf:execute({q = "why"})
    return {success = r.success, text = r.final and r.final.text, error = r.error}
    """
    script = host.prepare(source)
    agents = Agents()
    script.agents = agents  # type: ignore[attr-defined]
    value = ok(host.execute(script))
    assert value["success"] is True, value["error"]
    assert value["text"] == "answer to {'text': 'answer to why'}"
    assert agents.calls[0] == ("writer", "why")
    instance = agents.calls[1][0]
    assert instance["name"] == "calculator" and "__class" not in instance

    script = host.prepare(source)
    script.agents = None  # type: ignore[attr-defined]
    without = ok(host.execute(script))
    assert without["success"] is False
    assert without["error"].startswith("ValidationError: agent step: cannot run agent 'writer'")


def test_from_file_reads_through_the_permissions(tmp_path: Path) -> None:
    flow = tmp_path / "flow.toml"
    flow.write_text(
        'name = "from-file"\n'
        "[[steps]]\n"
        'name = "shout"\n'
        'tool = "text-manipulator"\n'
        'input = { operation = "uppercase", input = "{{input}}" }\n'
    )
    script = f"""
    local wf = Workflow.from_file({str(flow)!r})
    local r = wf:execute("file")
    return {{wf.name, wf.type, r.final.result, Workflow.fromFile == Workflow.from_file}}
    """
    allowed = Host(
        load_config(
            {"storage": {"backend": "memory"}, "security": {"file_read_roots": [str(tmp_path)]}},
            environ={},
        )
    )
    assert ok(allowed.run(script)) == ["from-file", "sequential", "FILE", True]

    denied = Host(load_config({"storage": {"backend": "memory"}}, environ={})).run(script)
    assert denied.status == "error"
    assert denied.error is not None and "PermissionDenied:" in denied.error

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - name: s\n    tool: calculator\n    colour: red\n")
    result = allowed.run(f"return Workflow.from_file({str(bad)!r})")
    assert result.error is not None
    assert "bad.yaml: workflow 'bad', step 's': unknown field 'colour'" in result.error


def test_agent_steps_with_the_agent_global() -> None:
    host = Host(
        load_config(
            {
                "storage": {"backend": "memory"},
                "default_provider": "s",
                "providers": {"s": {"provider_type": "scripted", "options": {"echo": True}}},
            },
            environ={},
        )
    )
    value = ok(
        host.run(
            """
            local echo = Agent.create{name = "echo", model = "m"}
            local wf = Workflow.sequential{name = "agents", steps = {
              {name = "first", type = "agent", agent = echo, input = "{{input.q}}"},
              {name = "second", agent = "echo", input = "again: {{steps.first.output.text}}"},
            }}
            local r = wf:execute({q = "ping"})
            return {r.success, r.outputs.first.text, r.final.text, r.error}
            """
        )
    )
    assert value[:3] == [True, "ping", "again: ping"], value
