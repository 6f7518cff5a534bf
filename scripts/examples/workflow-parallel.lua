-- A parallel workflow: steps run at the same time, at most max_concurrency at once.
--
--   llmspell run scripts/examples/workflow-parallel.lua
--
-- Each function step waits 0.2 s (standing in for an LLM or HTTP call). Run one after another
-- the six waits would take 1.2 s; with max_concurrency = 3 they take about 0.4 s, in two waves.
-- A parallel workflow may also run branches: each branch is a sequence of its own.

local function slow_square(n)
  return function(ctx)
    sleep(0.2)
    return n * n
  end
end

local steps = {}
for n = 1, 6 do
  steps[n] = { name = "square_" .. n, fn = slow_square(n) }
end

local squares = Workflow.parallel({ name = "squares", steps = steps, max_concurrency = 3 })
local result = squares:execute()
print(result.text)
local total = 0
for n = 1, 6 do
  total = total + result.outputs["square_" .. n]
end
print(("sum of squares 1..6 = %d, in %.0f ms"):format(total, result.duration_ms))

-- Branches: two sequences side by side; the last step of each uses the one before it.
local checksums = Workflow.parallel({
  name = "checksums",
  branches = {
    {
      name = "md5",
      steps = {
        { name = "md5", tool = "hash-calculator", input = { algorithm = "md5", input = "{{input}}" } },
        { name = "md5_upper", tool = "text-manipulator",
          input = { operation = "uppercase", input = "{{steps.md5.output.result.hash}}" } },
      },
    },
    {
      name = "sha1",
      steps = {
        { name = "sha1", tool = "hash-calculator", input = { algorithm = "sha1", input = "{{input}}" } },
        { name = "sha1_upper", tool = "text-manipulator",
          input = { operation = "uppercase", input = "{{steps.sha1.output.result.hash}}" } },
      },
    },
  },
})
local sums = checksums:execute("abc")
print(sums.text)
print("md5  " .. sums.outputs.md5_upper.result)
print("sha1 " .. sums.outputs.sha1_upper.result)
