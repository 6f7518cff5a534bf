-- Agents calling agents: a researcher wrapped as a tool that a lead agent calls.
--
--   llmspell --config scripts/examples/configs/agent-hierarchy.toml run scripts/examples/16-agent-hierarchy.lua
--
-- Agent.wrap_as_tool registers an agent as a tool taking {input = "..."} and returning its
-- answer, so another agent (or Tool.execute) can call it. Each agent keeps its own
-- conversation, model and metrics.
--
-- test-config: scripts/examples/configs/agent-hierarchy.toml

local researcher = Agent.create{
  name = "researcher",
  model = "research/fact-model",
  description = "Answers factual questions precisely",
  prompt = "Answer with facts only.",
}
local tool = Agent.wrap_as_tool(researcher, {tool_name = "ask-researcher"})

local lead = Agent.create{
  name = "lead",
  prompt = "Write two clear lines. Check facts with ask-researcher first.",
  tools = { tool },
}
local out = lead:execute("Write about the Rhine.")

for _, call in ipairs(out.tool_calls) do
  print(("lead asked %s: %s"):format(call.name, call.arguments.input))
  print(("  and heard: %s"):format(call.result.text))
end
print("lead wrote: " .. out.text)
for _, agent in ipairs({ lead, researcher }) do
  local m = agent:get_metrics()
  print(("%s: %d request(s), %d tool call(s), %d tokens"):format(agent.name, m.requests_total,
    m.tool_invocations, m.total_tokens))
end
