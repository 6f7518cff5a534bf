-- A hook that redacts a tool's input before the tool sees it: e-mail addresses and API keys
-- never reach the tool, its events or the audit log.
--
--   llmspell run scripts/examples/21-redacting-hook.lua
--
-- A BeforeToolExecution hook that returns {type = "modified", data = {params = ...}} changes
-- the parameters of the call; the tool's schema is checked after the hooks. The same hook
-- applies to the tools an agent calls and to workflow tool steps.

local function redact(text)
  text = text:gsub("[%w%._%-]+@[%w%.%-]+%.%a+", "[email]")
  text = text:gsub("sk%-[%w%-]+", "[api key]")
  return text
end

local redactions = 0
Hook.register("BeforeToolExecution", function(ctx)
  local params = ctx.data.params
  if type(params.input) ~= "string" then return "continue" end
  local clean = redact(params.input)
  if clean == params.input then return "continue" end
  redactions = redactions + 1
  params.input = clean
  return { type = "modified", data = { params = params } }
end, "highest", "redact-secrets")

-- A tool written in Lua stands in for one that would send the text somewhere.
Tool.register{
  name = "send-note",
  description = "Sends a note (here: prints what it was given).",
  parameters = { type = "object", properties = { input = { type = "string" } },
                 required = { "input" } },
  handler = function(params)
    print("send-note received: " .. params.input)
    return { result = #params.input, text = "sent" }
  end,
}

local note = "Ask ada@example.com to rotate sk-live-12345abcde before Friday."
Tool.execute("send-note", { input = note })

-- Built-in tools get the same treatment.
local upper = Tool.execute("text-manipulator", { operation = "uppercase",
                                                  input = "cc: bob@example.org" })
print("text-manipulator returned: " .. upper.text)
print(("%d tool inputs redacted"):format(redactions))
