"""Hook and Event from scripts: hooks on every tool, agent and workflow call of a run, events,
the audit trail of tool and agent calls, budgets, the response cache and run metrics."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmspell import Host
from llmspell.core.config import load_config
from llmspell.core.result import RunResult
from llmspell.state.audit import AuditLog

TOOL_CALL = {
    "tool_calls": [{"name": "calculator", "arguments": {"operation": "evaluate", "input": "2+2"}}]
}


def make_host(tmp_path: Path, *, replies: list[Any] | None = None, **config: Any) -> Host:
    """A Host on a private database, with a scripted provider ``test`` answering ``replies``."""
    options: dict[str, Any] = {"replies": replies or [], "echo": replies is None}
    settings: dict[str, Any] = {
        "storage": {"path": str(tmp_path / "llmspell.db")},
        "default_provider": "test",
        "providers": {"test": {"provider_type": "scripted", "options": options}},
    }
    for key, value in config.items():
        settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
    return Host(load_config(settings, environ={}))


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return make_host(tmp_path)


def ok(result: RunResult) -> Any:
    assert result.status == "ok", result.error
    return result.value


def audit_rows(host: Host, run_id: str) -> list[dict[str, Any]]:
    return AuditLog(host.services.store).list(run_id=run_id)


# --- tool hooks ------------------------------------------------------------------------------


def test_before_hook_sees_the_call_and_changes_its_params(host: Host) -> None:
    result = host.run(
        """
        local seen
        Hook.register("BeforeToolExecution", function(ctx)
          seen = {point = ctx.point, tool = ctx.data.tool, input = ctx.data.params.input,
                  correlation_id = ctx.correlation_id}
          return {type = "modified", data = {params = {operation = "evaluate", input = "3*3"}}}
        end)
        local r = Tool.execute("calculator", {operation = "evaluate", input = "2+2"})
        seen.result = r.result.result
        return seen
        """
    )
    assert ok(result) == {
        "point": "BeforeToolExecution",
        "tool": "calculator",
        "input": "2+2",
        "correlation_id": result.execution_id,
        "result": 9,
    }


def test_after_hook_changes_the_result(host: Host) -> None:
    value = ok(
        host.run(
            """
            Hook.register("AfterToolExecution", function(ctx)
              local r = ctx.data.result
              r.result.result = r.result.result * 10
              return {type = "modified", data = {result = r}}
            end)
            return Tool.execute("calculator", {operation = "evaluate", input = "2+2"}).result
            """
        )
    )
    assert value["result"] == 40


def test_skip_and_replace_stand_in_for_the_call(host: Host) -> None:
    value = ok(
        host.run(
            """
            local ran = 0
            Tool.register{name = "counter", parameters = {type = "object"},
              handler = function() ran = ran + 1; return "ran" end}
            local mode
            Hook.register("BeforeToolExecution", function(ctx)
              if mode == "skip" then return "skip" end
              if mode == "value" then return {type = "replace", data = 42} end
              if mode == "table" then
                return {type = "replace", data = {success = true, result = "r", text = "T"}}
              end
            end)
            mode = "skip"; local skipped = Tool.execute("counter", {})
            mode = "value"; local value = Tool.execute("counter", {})
            mode = "table"; local tbl = Tool.execute("counter", {})
            mode = nil; local real = Tool.execute("counter", {})
            return {skipped_result = skipped.result, skipped = skipped.metadata.skipped,
                    value = value.result, value_text = value.text, table_text = tbl.text,
                    real = real.result, ran = ran}
            """
        )
    )
    assert value == {
        "skipped": True,
        "value": 42,
        "value_text": "42",
        "table_text": "T",
        "real": "ran",
        "ran": 1,
    }


def test_a_cancelling_hook_fails_the_call_with_its_reason(host: Host) -> None:
    value = ok(
        host.run(
            """
            local how = "string"
            Hook.register("BeforeToolExecution", function(ctx)
              if how == "string" then return "calculator is off today" end
              return {type = "cancel", reason = "policy"}
            end)
            local _, first = pcall(Tool.execute, "calculator", {input = "1"})
            how = "table"
            local _, second = pcall(Tool.execute, "calculator", {input = "1"})
            return {first, second}
            """
        )
    )
    assert value[0].endswith("Cancelled: BeforeToolExecution: calculator is off today")
    assert value[1].endswith("Cancelled: BeforeToolExecution: policy")


def test_tool_error_hook_retries_a_flaky_tool(host: Host) -> None:
    value = ok(
        host.run(
            """
            local calls = 0
            Tool.register{name = "flaky", parameters = {type = "object"}, handler = function()
              calls = calls + 1
              if calls < 3 then error("not yet") end
              return "finally"
            end}
            local seen = {}
            Hook.register("ToolError", function(ctx)
              seen[#seen + 1] = ctx.data.error_kind
              return {type = "retry", attempts = 2}
            end)
            local r = Tool.execute("flaky", {})
            return {result = r.result, calls = calls, seen = seen}
            """
        )
    )
    assert value == {"result": "finally", "calls": 3, "seen": ["ToolError", "ToolError"]}


def test_retries_run_out_and_the_error_stands(host: Host) -> None:
    value = ok(
        host.run(
            """
            Tool.register{name = "broken", parameters = {type = "object"},
              handler = function() error("always") end}
            Hook.register("ToolError", function() return {type = "retry", attempts = 1} end)
            local okay, err = pcall(Tool.execute, "broken", {})
            return {okay, err}
            """
        )
    )
    assert value[0] is False and "ToolError" in value[1] and "always" in value[1]


def test_priorities_order_and_handles(host: Host) -> None:
    value = ok(
        host.run(
            """
            local order = {}
            local function hook(tag)
              return function() order[#order + 1] = tag end
            end
            local low = Hook.register("BeforeToolExecution", hook("low"), "low")
            Hook.register("BeforeToolExecution", hook("five"), 5)
            local high = Hook.register("before_tool_execution", hook("high"), "high", "first")
            Hook.register("BeforeToolExecution", hook("normal"))
            Tool.execute("calculator", {input = "1"})
            local names = {}
            for _, h in ipairs(Hook.list("BeforeToolExecution")) do names[#names + 1] = h.name end
            local removed = {low:unregister(), Hook.unregister(high), low:unregister()}
            order[#order + 1] = "|"
            Tool.execute("calculator", {input = "1"})
            return {order = order, names = names, removed = removed, id = type(high:id()),
                    lua = #Hook.list({language = "lua"}), after = #Hook.list("AfterToolExecution")}
            """
        )
    )
    assert value["order"] == ["high", "normal", "five", "low", "|", "normal", "five"]
    assert value["names"][0] == "first" and len(value["names"]) == 4
    assert value["removed"] == [True, True, False]
    assert value["id"] == "string" and value["lua"] == 2 and value["after"] == 0


def test_hook_registration_errors_name_the_problem(host: Host) -> None:
    value = ok(
        host.run(
            """
            local _, a = pcall(Hook.register, "BeforeNothing", function() end)
            local _, b = pcall(Hook.register, "BeforeToolExecution", "not a function")
            local _, c = pcall(Hook.register, "BeforeToolExecution", function() end, "soon")
            local h = Hook.register("ToolError", function() end)
            local _, d = pcall(function() return h.id() end)
            return {a, b, c, d}
            """
        )
    )
    assert "ValidationError: Hook.register: unknown hook point 'BeforeNothing'" in value[0]
    assert "ValidationError: Hook.register: the hook must be a function, got str" in value[1]
    assert "hook priority must be an integer or one of" in value[2]
    assert "must be called with ':'" in value[3]


def test_a_failing_hook_is_reported_and_ignored_when_failures_are_open(host: Host) -> None:
    value = ok(
        host.run(
            """
            local sub = Event.subscribe("hook.failed")
            Hook.register("BeforeToolExecution", function() error("hook bug") end, 0, "buggy")
            local r = Tool.execute("calculator", {operation = "evaluate", input = "1+1"})
            local e = Event.receive(sub, 0)
            return {result = r.result.result, hook = e.data.hook, error = e.data.error,
                    mode = e.data.failure_mode}
            """
        )
    )
    assert value["result"] == 2 and value["hook"] == "buggy" and value["mode"] == "open"
    assert "hook bug" in value["error"]


def test_a_failing_hook_fails_the_call_when_failures_are_closed(tmp_path: Path) -> None:
    host = make_host(tmp_path, security={"hook_failure": "closed"})
    value = ok(
        host.run(
            """
            Hook.register("BeforeToolExecution", function() return 12 end, 0, "odd")
            local okay, err = pcall(Tool.execute, "calculator", {input = "1"})
            return err
            """
        )
    )
    assert "HookError: hook 'odd' at BeforeToolExecution failed" in value


def test_host_python_hooks_fire_in_every_run_with_the_scripts_own(host: Host) -> None:
    seen: list[Any] = []

    def python_hook(ctx: dict[str, Any]) -> Any:
        seen.append(ctx["data"]["params"])
        return {"type": "modified", "data": {"params": {**ctx["data"]["params"], "input": "5"}}}

    hook_id = host.register_hook("BeforeToolExecution", python_hook, priority="high")
    source = """
        Hook.register("BeforeToolExecution", function(ctx) last = ctx.data.params.input end)
        local r = Tool.execute("calculator", {operation = "evaluate", input = "1"})
        local langs = {}
        for _, h in ipairs(Hook.list()) do langs[#langs + 1] = h.language end
        return {result = r.result.result, lua_saw = last, langs = langs}
    """
    assert ok(host.run(source)) == {"result": 5, "lua_saw": "5", "langs": ["python", "lua"]}
    assert ok(host.run(source))["langs"] == ["python", "lua"]  # the first run's hook is gone
    assert len(seen) == 2
    assert host.unregister_hook(hook_id)
    assert ok(host.run(source))["result"] == 1


def test_os_exit_in_a_hook_ends_the_run_before_the_tool_runs(host: Host) -> None:
    result = host.run(
        """
        Tool.register{name = "loud", parameters = {type = "object"},
          handler = function() print("tool ran") end}
        Hook.register("BeforeToolExecution", function() os.exit(3) end)
        pcall(Tool.execute, "loud", {})
        print("after")
        """
    )
    assert result.exit_code == 3
    assert "tool ran" not in result.output and "after" not in result.output


# --- events ----------------------------------------------------------------------------------


def test_events_by_glob_pattern(host: Host) -> None:
    value = ok(
        host.run(
            """
            local mine = Event.subscribe("my.*")
            local failures = Event.subscribe("*.failed")
            Event.publish("my.a", {n = 1})
            Event.emit("other.failed", {n = 2})
            Event.publish("my.b.c")
            local got = {}
            for _, sub in ipairs({mine, failures}) do
              while true do
                local e = Event.receive(sub, 0)
                if e == nil then break end
                got[#got + 1] = e.type
              end
            end
            local unsubscribed = Event.unsubscribe(mine)
            return {got = got, unsubscribed = unsubscribed, again = Event.unsubscribe(mine)}
            """
        )
    )
    assert value == {
        "got": ["my.a", "my.b.c", "other.failed"],
        "unsubscribed": True,
        "again": False,
    }


def test_receive_times_out_with_nil_and_wakes_on_publish(host: Host) -> None:
    value = ok(
        host.run(
            """
            local sub = Event.subscribe("ping")
            local t = Debug.timer("wait")
            local none = Event.receive(sub, 60)
            local waited = t:elapsed()
            spawn(function() sleep(0.01); Event.publish("ping", {n = 7}) end)
            local t2 = Debug.timer("wake")
            local e = Event.receive(sub, 5000)
            return {none = none == nil, waited = waited, n = e.data.n, source = e.source,
                    woke = t2:elapsed()}
            """
        )
    )
    assert value["none"] and value["waited"] >= 50
    assert value["n"] == 7 and value["source"] == "script" and value["woke"] < 2000


def test_event_errors(host: Host) -> None:
    value = ok(
        host.run(
            """
            local _, a = pcall(Event.receive, "sub_nope", 0)
            local _, b = pcall(Event.receive, Event.subscribe("x"), -1)
            local _, c = pcall(Event.publish, "x", {1, 2})
            local _, d = pcall(Event.subscribe, "")
            return {a, b, c, d}
            """
        )
    )
    assert "NotFound: Event.receive: event subscription 'sub_nope' not found" in value[0]
    assert "timeout_ms must be a non-negative number" in value[1]
    assert "ValidationError: Event.publish: event 'x': data must be a table" in value[2]
    assert "ValidationError: Event.subscribe: event pattern must be a non-empty string" in value[3]


def test_tool_calls_publish_events_seen_by_the_run_and_the_host(host: Host) -> None:
    host_sub = host.events.subscribe("tool.*")
    result = host.run(
        """
        local sub = Event.subscribe("tool.execution.*")
        Tool.execute("calculator", {operation = "evaluate", input = "1+1"})
        pcall(Tool.execute, "calculator", {operation = "evaluate"})
        local got = {}
        for i = 1, 4 do
          local e = Event.receive(sub, 0)
          got[i] = {type = e.type, tool = e.data.tool, kind = e.data.error_kind,
                    timed = e.data.duration_ms ~= nil}
        end
        return got
        """
    )
    assert ok(result) == [
        {"type": "tool.execution.started", "tool": "calculator", "timed": False},
        {"type": "tool.execution.completed", "tool": "calculator", "timed": True},
        {"type": "tool.execution.started", "tool": "calculator", "timed": False},
        {
            "type": "tool.execution.failed",
            "tool": "calculator",
            "kind": "ValidationError",
            "timed": True,
        },
    ]

    async def drain() -> list[Any]:
        out = []
        while (event := await host.events.receive(host_sub, 0)) is not None:
            out.append(event)
        return out

    events = asyncio.run(drain())
    assert len(events) == 4
    assert {e["correlation_id"] for e in events} == {result.execution_id}


def test_a_run_does_not_receive_another_runs_events(host: Host) -> None:
    source = """
        local sub = Event.subscribe("tool.*")
        if ARGS[1] == "call" then Tool.execute("calculator", {input = "1"}) end
        return Event.receive(sub, 0) ~= nil
    """
    assert ok(host.run(source, args=["call"])) is True
    assert ok(host.run(source)) is False


# --- audit -------------------------------------------------------------------------------------


def test_tool_calls_are_audited_with_the_params_they_ran_with(host: Host) -> None:
    result = host.run(
        """
        Tool.register{name = "echo", parameters = {type = "object"},
          handler = function(params) return params end}
        Hook.register("BeforeToolExecution", function(ctx)
          return {type = "modified", data = {params = {input = "7", api_key = "sk-secret"}}}
        end)
        Tool.execute("echo", {input = "1"})
        pcall(Tool.execute, "nope", {})
        """
    )
    ok(result)
    rows = audit_rows(host, result.execution_id)
    assert [(r["action"], r["actor"], r["outcome"][:30]) for r in rows] == [
        ("tool.execute", "tool:echo", "success"),
        ("tool.execute", "tool:nope", "error: ToolNotFound: tool 'nop"),
    ]
    assert rows[0]["arguments"]["params"] == {"input": "7", "api_key": "***"}
    assert all(r["duration_ms"] is not None for r in rows)


# --- agents ----------------------------------------------------------------------------------


def test_hooks_fire_on_the_tools_an_agent_calls(tmp_path: Path) -> None:
    host = make_host(tmp_path, replies=[TOOL_CALL, "the answer is 9"])
    value = ok(
        host.run(
            """
            local seen = {}
            Hook.register("BeforeToolExecution", function(ctx)
              seen[#seen + 1] = ctx.data.tool .. " " .. ctx.data.params.input
              return {type = "modified", data = {params = {operation = "evaluate", input = "3*3"}}}
            end)
            local agent = Agent.create{name = "calc", model = "test/scripted",
                                       tools = {"calculator"}}
            local r = agent:execute("what is 2+2?")
            return {seen = seen, text = r.text, tool = r.tool_calls[1].result.result.result}
            """
        )
    )
    assert value == {"seen": ["calculator 2+2"], "text": "the answer is 9", "tool": 9}


def test_agent_hooks_and_events(tmp_path: Path) -> None:
    host = make_host(tmp_path)  # the scripted provider echoes the input
    value = ok(
        host.run(
            """
            local sub = Event.subscribe("agent.*")
            Hook.register("BeforeAgentExecution", function(ctx)
              return {type = "modified", data = {input = ctx.data.input .. " (checked)"}}
            end)
            Hook.register("AfterAgentExecution", function(ctx)
              return {type = "modified", data = {output = {text = ctx.data.output.text:upper()}}}
            end)
            local agent = Agent.create{name = "echo", model = "test/scripted"}
            local text = agent:execute("hello").text
            local types = {}
            while true do
              local e = Event.receive(sub, 0)
              if e == nil then break end
              types[#types + 1] = e.type .. ":" .. e.data.agent
            end
            return {text = text, types = types}
            """
        )
    )
    assert value == {
        "text": "HELLO (CHECKED)",
        "types": ["agent.execution.started:echo", "agent.execution.completed:echo"],
    }


def test_agent_and_tool_calls_are_audited_and_the_chain_verifies(tmp_path: Path) -> None:
    host = make_host(tmp_path, replies=[TOOL_CALL, "4"])
    result = host.run(
        """
        local agent = Agent.create{name = "calc", model = "test/scripted", tools = {"calculator"}}
        agent:execute({text = "2+2?", parameters = {}})
        """
    )
    ok(result)
    rows = audit_rows(host, result.execution_id)
    assert [(r["action"], r["actor"], r["outcome"]) for r in rows] == [
        ("tool.execute", "tool:calculator", "success"),
        ("agent.execute", "agent:calc", "success"),
    ]
    agent_row = rows[1]["arguments"]
    assert agent_row["input"] == {"text": "2+2?", "parameters": {}}
    assert agent_row["provider"] == "test" and agent_row["model"] == "scripted"
    assert rows[0]["arguments"]["params"] == {"operation": "evaluate", "input": "2+2"}
    db = str(tmp_path / "llmspell.db")
    from llmspell.cli.main import cli

    verified = CliRunner().invoke(cli, ["audit", "verify", "--db", db])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("ok: 2 audit rows verified")


def test_the_session_of_the_run_is_in_its_audit_records(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    result = host.run('Tool.execute("calculator", {input = "1"})', session="work")
    ok(result)
    session = host.services.sessions.get_or_create("work")
    assert audit_rows(host, result.execution_id)[0]["session_id"] == session["id"]


# --- budgets and metrics ---------------------------------------------------------------------

USAGE_REPLIES = [
    {"text": "one", "usage": {"input_tokens": 6, "output_tokens": 2}},
    {"text": "two", "usage": {"input_tokens": 9, "output_tokens": 3}},
    {"text": "three", "usage": {"input_tokens": 12, "output_tokens": 4}},
]
THREE_CALLS = """
    local agent = Agent.create{name = "writer", model = "test/scripted"}
    local done = 0
    for _, word in ipairs({"a", "b", "c"}) do
      agent:execute(word)
      done = done + 1
    end
    return done
"""


def test_a_token_budget_stops_the_run(tmp_path: Path) -> None:
    host = make_host(tmp_path, replies=USAGE_REPLIES, runtime={"max_tokens_total": 15})
    result = host.run(THREE_CALLS)
    assert result.status == "error"
    assert (
        result.error is not None
        and "BudgetExceeded: budget exceeded: run used 20 tokens, "
        "over max_tokens_total 15 (charged by agent 'writer')"
        in result.error
    )
    assert result.metrics["input_tokens"] == 15 and result.metrics["output_tokens"] == 5


def test_budget_from_the_host_and_the_run_and_metrics_without_one(tmp_path: Path) -> None:
    unlimited = make_host(tmp_path, replies=USAGE_REPLIES)
    result = unlimited.run(THREE_CALLS)
    assert ok(result) == 3
    assert {k: result.metrics[k] for k in ("input_tokens", "output_tokens", "cost_usd")} == {
        "input_tokens": 27,
        "output_tokens": 9,
        "cost_usd": 0.0,
    }
    assert result.to_dict()["metrics"]["input_tokens"] == 27
    host = make_host(tmp_path / "h", replies=USAGE_REPLIES * 2)
    capped = Host(host.config, budget={"max_tokens_total": 100})
    assert ok(capped.run(THREE_CALLS)) == 3
    stopped = capped.run(THREE_CALLS, budget={"max_tokens_total": 5})
    assert stopped.error is not None and "max_tokens_total 5" in stopped.error


def test_a_caught_budget_error_keeps_stopping_later_calls(tmp_path: Path) -> None:
    host = make_host(tmp_path, replies=USAGE_REPLIES, runtime={"max_tokens_total": 5})
    value = ok(
        host.run(
            """
            local sub = Event.subscribe("budget.exceeded")
            local agent = Agent.create{name = "writer", model = "test/scripted"}
            local ok1, e1 = pcall(agent.execute, agent, "a")
            local ok2, e2 = pcall(agent.execute, agent, "b")
            return {ok1, ok2, e2:match("BudgetExceeded") ~= nil, Event.receive(sub, 0) ~= nil}
            """
        )
    )
    assert value == [False, False, True, True]


def test_cost_budget_with_a_priced_model(tmp_path: Path, mock_server: Any) -> None:
    for _ in range(3):
        mock_server.script.push(
            {"text": "x", "usage": {"input_tokens": 1000, "output_tokens": 1000}}
        )
    host = make_host(
        tmp_path,
        providers={
            "mock": {
                "provider_type": "openai",
                "base_url": mock_server.base_url,
                "api_key": "test-key",
                "default_model": "gpt-4o-mini",
            }
        },
    )
    result = host.run(
        """
        local agent = Agent.create{name = "priced", model = "mock/gpt-4o-mini"}
        for i = 1, 3 do agent:execute("hi " .. i) end
        """,
        budget={"max_cost_usd": 0.001},
    )
    assert result.error is not None and "over max_cost_usd $0.001000" in result.error
    assert 0.001 < result.metrics["cost_usd"] < 0.002


def test_cli_budget_options_and_json_metrics(tmp_path: Path) -> None:
    config = tmp_path / "llmspell.toml"
    config.write_text(
        'default_provider = "test"\n'
        "[storage]\n"
        f"path = {json.dumps(str(tmp_path / 'cli.db'))}\n"
        "[providers.test]\n"
        'provider_type = "scripted"\n'
        "options = { replies = ["
        '{ text = "one", usage = { input_tokens = 6, output_tokens = 2 } },'
        '{ text = "two", usage = { input_tokens = 9, output_tokens = 3 } } ] }\n'
    )
    script = tmp_path / "two.lua"
    script.write_text(
        'local a = Agent.create{name = "w", model = "test/scripted"}\n'
        'a:execute("x")\na:execute("y")\n'
    )
    command = [sys.executable, "-m", "llmspell.cli.main", "--config", str(config)]
    command += ["--output", "json", "run", "--max-tokens", "10", "--no-cache", str(script)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    data = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert "BudgetExceeded: budget exceeded: run used 20 tokens" in data["error"]
    assert data["metrics"]["input_tokens"] == 15 and data["metrics"]["output_tokens"] == 5


# --- response cache ----------------------------------------------------------------------------

TWO_AGENTS = """
    local sub = Event.subscribe("provider.cache.*")
    local texts = {}
    for i = 1, 2 do
      local agent = Agent.create{name = "same", model = "test/scripted"}
      local okay, r = pcall(agent.execute, agent, "question")
      texts[i] = okay and r.text or "failed"
    end
    local kinds = {}
    while true do
      local e = Event.receive(sub, 0)
      if e == nil then break end
      kinds[#kinds + 1] = e.type
    end
    return {texts = texts, kinds = kinds}
"""


def test_the_response_cache_answers_a_repeated_request(tmp_path: Path) -> None:
    host = make_host(tmp_path, replies=["only once"], storage={"cache": True, "cache_ttl": 60})
    assert ok(host.run(TWO_AGENTS)) == {
        "texts": ["only once", "only once"],
        "kinds": ["provider.cache.miss", "provider.cache.hit"],
    }


def test_no_cache_for_one_run_and_cache_off_by_default(tmp_path: Path) -> None:
    cached = make_host(tmp_path, replies=["only once"], storage={"cache": True})
    assert ok(cached.run(TWO_AGENTS, cache=False)) == {
        "texts": ["only once", "failed"],
        "kinds": {},
    }
    default = make_host(tmp_path / "d", replies=["only once"])
    assert ok(default.run(TWO_AGENTS))["texts"] == ["only once", "failed"]


# --- workflows ---------------------------------------------------------------------------------


def test_hooks_and_events_on_workflow_steps(host: Host) -> None:
    value = ok(
        host.run(
            """
            local sub = Event.subscribe("workflow.step.*")
            local stages = {}
            Hook.register("BeforeWorkflowStart", function(ctx) stages[#stages + 1] = "start" end)
            Hook.register("BeforeWorkflowStage", function(ctx)
              stages[#stages + 1] = ctx.data.step
              if ctx.data.step == "calc" then
                return {type = "modified", data = {input = {operation = "evaluate", input = "6*7"}}}
              end
            end)
            Hook.register("AfterWorkflowStage", function(ctx)
              if ctx.data.step == "word" then return {type = "replace", data = "REPLACED"} end
            end)
            local seen_tool
            Hook.register("BeforeToolExecution", function(ctx) seen_tool = ctx.data.tool end)
            local wf = Workflow.sequential{name = "w", steps = {
              {name = "calc", type = "tool", tool = "calculator",
               input = {operation = "evaluate", input = "1+1"}},
              {name = "word", type = "function", fn = function() return "x" end},
            }}
            local r = wf:execute()
            local events = {}
            while true do
              local e = Event.receive(sub, 0)
              if e == nil then break end
              events[#events + 1] = e.type .. ":" .. e.data.step
            end
            return {success = r.success, calc = r.outputs.calc.result.result, word = r.outputs.word,
                    stages = stages, events = events, tool = seen_tool}
            """
        )
    )
    assert value == {
        "success": True,
        "calc": 42,
        "word": "REPLACED",
        "stages": ["start", "calc", "word"],
        "events": [
            "workflow.step.started:calc",
            "workflow.step.completed:calc",
            "workflow.step.started:word",
            "workflow.step.completed:word",
        ],
        "tool": "calculator",
    }


def test_workflow_hooks_cancel_and_refuse_a_skip(host: Host) -> None:
    value = ok(
        host.run(
            """
            local how
            Hook.register("BeforeWorkflowStage", function(ctx)
              if how == "cancel" then return "not today" end
              return "skip"
            end)
            local wf = Workflow.sequential{name = "w", steps = {
              {name = "only", type = "function", fn = function() return 1 end}}}
            local skipped = wf:execute()
            how = "cancel"
            local cancelled = wf:execute()
            return {skipped.success, skipped.error, cancelled.success, cancelled.error}
            """
        )
    )
    assert value[0] is False and "BeforeWorkflowStage: hook 'lua:BeforeWorkflowStage#1'" in value[1]
    assert "asked to skip" in value[1]
    assert value[2] is False and "not today" in value[3]
