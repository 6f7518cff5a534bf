-- A logging hook: one function registered at the agent and tool hook points logs every call
-- the run makes, the script's own Tool.execute as well as the tools an agent calls by itself.
--
--   llmspell --config scripts/examples/configs/logging-hook.toml run scripts/examples/20-logging-hook.lua
--
-- Hooks get ctx = {point, data, correlation_id, hook}; returning nothing lets the call go on.
-- The same calls are published as events: this script also subscribes to them and prints the
-- ones that arrived. With a real model (drop --config, set OPENAI_API_KEY) the log shows the
-- tools the model chose.
--
-- test-config: scripts/examples/configs/logging-hook.toml

local function log(ctx)
  local d = ctx.data
  if ctx.point == "BeforeToolExecution" then
    print(("-> tool %s %s"):format(d.tool, JSON.stringify(d.params)))
  elseif ctx.point == "AfterToolExecution" then
    print(("<- tool %s: %s"):format(d.tool, d.result.text))
  elseif ctx.point == "ToolError" then
    print(("!! tool %s failed: %s"):format(d.tool, d.error))
  elseif ctx.point == "BeforeAgentExecution" then
    print(("-> agent %s: %s"):format(d.agent, type(d.input) == "table" and d.input.text or d.input))
  elseif ctx.point == "AfterAgentExecution" then
    local m = d.output.metadata
    print(("<- agent %s: %q (%d tokens)"):format(d.agent, d.output.text, m.total_tokens))
  end
end

for _, point in ipairs({ "BeforeToolExecution", "AfterToolExecution", "ToolError",
                         "BeforeAgentExecution", "AfterAgentExecution" }) do
  Hook.register(point, log, "lowest", "logger")
end
print(("%d hooks registered"):format(#Hook.list({ name = "logger" })))

local events = Event.subscribe("*.execution.*")

-- The script's own tool calls, one that works and one that fails.
Tool.execute("uuid-generator", { operation = "generate" })
pcall(Tool.execute, "calculator", { input = "1 / (" })

-- An agent that calls the calculator itself.
local agent = Agent.create{ name = "math", tools = { "calculator" },
                            prompt = "Use the calculator for arithmetic." }
agent:execute("What is 12 * 12?")

local counts = {}
while true do
  local event = Event.receive(events, 0)
  if event == nil then break end
  counts[event.type] = (counts[event.type] or 0) + 1
end
local types = {}
for kind in pairs(counts) do types[#types + 1] = kind end
table.sort(types)
for _, kind in ipairs(types) do
  print(("event %-28s x%d"):format(kind, counts[kind]))
end
