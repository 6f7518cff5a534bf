-- A conditional workflow: the first branch whose condition holds runs, else the default.
--
--   llmspell run scripts/examples/workflow-conditional.lua -- --expression "6 * 7"
--
-- Conditions are Lua functions of ctx, or tables such as {type = "input_equals", ...}.

local classify = Workflow.conditional({
  name = "route",
  branches = {
    {
      name = "compute",
      condition = function(ctx)
        return type(ctx.input) == "string" and ctx.input:match("^[%d%s%+%-%*/%.()]+$") ~= nil
      end,
      steps = {
        { name = "evaluate", tool = "calculator", input = { operation = "evaluate", input = "{{input}}" } },
        { name = "answer", fn = function(ctx)
          return ("%s = %s"):format(ctx.input, tostring(ctx.outputs.evaluate.result.result))
        end },
      },
    },
    {
      name = "greet",
      condition = { type = "input_equals", value = "hello" },
      steps = { { name = "wave", fn = function() return "hello to you too" end } },
    },
  },
  default = {
    { name = "shout", tool = "text-manipulator", input = { operation = "uppercase", input = "{{input}}" } },
  },
})

for _, input in ipairs({ ARGS.expression or "2 + 2 * 3", "hello", "something else" }) do
  local result = classify:execute(input)
  local final = result.final
  if type(final) == "table" then
    final = final.result
  end
  print(("%-16s -> branch %-8s -> %s"):format(input, result.metadata.branch, final))
end

-- The builder spelling: condition, then-steps and else-steps.
local by_size = Workflow.builder()
  :name("by-size")
  :conditional()
  :condition(function(ctx) return ctx.input > 100 end)
  :add_then_step({ name = "big", fn = function(ctx) return ctx.input .. " is big" end })
  :add_else_step({ name = "small", fn = function(ctx) return ctx.input .. " is small" end })
  :build()
print(by_size:execute(1000).final, "/", by_size:execute(7).final)
