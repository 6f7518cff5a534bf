-- An agent that uses tools over several turns: the calculator, then file-operations to write
-- its result and read it back, then its answer.
--
--   llmspell --config scripts/examples/configs/agent-tools.toml run scripts/examples/14-agent-with-tools.lua
--
-- Tool calls go through the same registry, permissions and --mode as Tool.execute: the config
-- lets file-operations read and write under /tmp/llmspell-examples only. With a real model
-- (drop --config, set OPENAI_API_KEY) the model decides which tools to call.
--
-- test-config: scripts/examples/configs/agent-tools.toml

local agent = Agent.create{
  name = "bookkeeper",
  prompt = "Use the calculator for arithmetic. Save results with file-operations under "
    .. "/tmp/llmspell-examples and read them back to check.",
  tools = { "calculator", "file-operations" },
  max_tool_calls = 6,
}
print("tools: " .. #agent:discover_tools() .. " (" .. tostring(agent:has_tool("calculator"))
  .. " for calculator)")

for chunk in agent:stream_execute("What is 17 * 23 + 4? Save the result, then check it.") do
  local c = chunk.content
  if c.type == "tool_call_complete" then
    local r = c.result
    print(("[%s] %s"):format(c.name, r.success == false and ("failed: " .. r.error) or r.text))
  elseif c.type == "text" then
    io.write(c.text)
  elseif c.type == "control" then
    print(("\n(%d tool calls, %d tokens)"):format(c.data.tool_call_count, c.data.total_tokens))
  end
end
