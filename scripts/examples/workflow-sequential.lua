-- A sequential workflow: each step uses the outputs of the steps before it.
--
--   llmspell run scripts/examples/workflow-sequential.lua -- --text "hello workflows"
--
-- Tool steps run built-in tools; the function step is plain Lua. Strings in a step's input may
-- refer to the workflow input ({{input.text}}) and to earlier outputs, by name
-- ({{steps.shout.output.result}}) or by position ({{step_1_output.result}}).

local text = ARGS.text or "hello workflows"

local pipeline = Workflow.sequential({
  name = "text-pipeline",
  description = "Shout a text, fingerprint it, and report",
  steps = {
    {
      name = "shout",
      type = "tool",
      tool = "text-manipulator",
      input = { operation = "uppercase", input = "{{input.text}}" },
    },
    {
      name = "fingerprint",
      type = "tool",
      tool = "hash-calculator",
      input = { operation = "hash", algorithm = "sha256", input = "{{step_1_output.result}}" },
    },
    {
      name = "report",
      type = "function",
      fn = function(ctx)
        local hash = ctx.outputs.fingerprint.result.hash
        return ("%s -> sha256 %s..."):format(ctx.outputs.shout.result, hash:sub(1, 16))
      end,
    },
  },
})

local result = pipeline:execute({ text = text })
print(result.text)
for _, step in ipairs(result.steps) do
  print(("  %-12s %s  %.1f ms"):format(step.name, step.success and "ok" or "FAILED", step.duration_ms))
end
print(result.final)

-- The same workflow with the builder.
local built = Workflow.builder()
  :name("text-pipeline-built")
  :sequential()
  :add_step({ name = "shout", tool = "text-manipulator", input = { operation = "uppercase", input = "{{input}}" } })
  :add_step({ name = "count", fn = function(ctx) return #ctx.outputs.shout.result end })
  :build()
print(("builder: %s has %d characters"):format(built:execute(text).outputs.shout.result, built:get_output("count")))
