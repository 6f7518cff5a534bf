-- A tool written in Lua, called by an agent like any built-in tool.
--
--   llmspell --config scripts/examples/configs/lua-tool.toml run scripts/examples/15-lua-tool.lua
--
-- Tool.register gives the tool a name, a description and a JSON schema for its parameters; the
-- agent offers it to its model, which calls it; the handler runs as Lua in this script.
--
-- test-config: scripts/examples/configs/lua-tool.toml

Tool.register{
  name = "word-stats",
  description = "Counts the words of a text and finds the longest one",
  parameters = {
    type = "object",
    properties = { input = { type = "string", description = "The text" } },
    required = { "input" },
  },
  handler = function(params)
    local count, longest = 0, ""
    for word in params.input:gmatch("%a+") do
      count = count + 1
      if #word > #longest then longest = word end
    end
    return { result = { words = count, longest = longest },
             text = ("%d words, longest '%s'"):format(count, longest) }
  end,
}

local agent = Agent.create{name = "analyst", tools = { "word-stats" }}
local out = agent:execute("How many words are in: the quick brown fox jumps over the lazy dog?")
for _, call in ipairs(out.tool_calls) do
  print(("tool %s(%s) -> %s"):format(call.name, JSON.stringify(call.arguments), call.result.text))
end
print("answer: " .. out.text)
print("Tool.execute works too: " .. Tool.execute("word-stats", {input = "one two three"}).text)
