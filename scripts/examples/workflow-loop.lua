-- Loop workflows: over a collection, a number of iterations, or while a condition holds.
--
--   llmspell run scripts/examples/workflow-loop.lua
--
-- In the body, {{loop.item}} and {{loop.iteration}} refer to the current value and its number
-- (ctx.item and ctx.iteration in function steps). The result keeps the outputs of every
-- iteration in `iterations`; a function step returning {["break"] = true} ends the loop.

-- Over a collection from the input; the loop stops at the word "stop".
local shout_each = Workflow.loop({
  name = "shout-each",
  collection = "{{input.words}}",
  body = {
    { name = "shout", tool = "text-manipulator", input = { operation = "uppercase", input = "{{loop.item}}" } },
    { name = "check", fn = function(ctx)
      if ctx.outputs.shout.result == "STOP" then
        return { ["break"] = true }
      end
      return ctx.iteration .. ": " .. ctx.outputs.shout.result
    end },
  },
})
local result = shout_each:execute({ words = { "alpha", "beta", "stop", "gamma" } })
print(result.text .. " (" .. result.metadata.loop_exit .. ")")
for i, outputs in ipairs(result.iterations) do
  print(("  iteration %d: %s"):format(i, outputs.shout.result))
end

-- A while loop with shared data: Collatz steps from 27, capped by max_iterations.
local collatz = Workflow.builder()
  :name("collatz")
  :loop()
  :while_condition(function(ctx)
    local last = ctx.outputs.next
    return last == nil or last ~= 1
  end)
  :max_iterations(500)
  :add_step({ name = "next", fn = function(ctx)
    local n = ctx.outputs.next or ctx.shared.start
    if n % 2 == 0 then
      return n // 2
    end
    return 3 * n + 1
  end })
  :build()
collatz:set_shared_data("start", 27)
local steps = collatz:execute()
print(("collatz from 27 reaches 1 after %d steps"):format(steps.metadata.iterations))

-- A fixed number of iterations.
local powers = Workflow.loop({
  name = "powers",
  iterations = 5,
  body = { { name = "power", fn = function(ctx) return 2 ^ ctx.iteration end } },
})
local values = {}
for i, outputs in ipairs(powers:execute().iterations) do
  values[i] = ("%g"):format(outputs.power)
end
print("powers of two: " .. table.concat(values, ", "))
