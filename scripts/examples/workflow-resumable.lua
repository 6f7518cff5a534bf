-- A resumable workflow: its progress is checkpointed after every step, so a run that stopped
-- (a failed step, Ctrl+C, a crash, a killed process) continues where it stopped.
--
--   llmspell run scripts/examples/workflow-resumable.lua
--   llmspell run scripts/examples/workflow-resumable.lua -- --nap 30   (Ctrl+C during "slow")
--   llmspell runs list --status interrupted       (the run is run_<id>/resumable-report)
--   llmspell run scripts/examples/workflow-resumable.lua -- --resume run_<id>
--
-- Each wf:execute is a run of its own in the store, named "<script run id>/<workflow name>".
-- wf:execute(input, {resume_from = id}) loads that run's last checkpoint: the steps it records
-- as done are not run again, their outputs come from the checkpoint. `id` is the workflow run's
-- id, or the id of the script run that executed it.

local nap = tonumber(ARGS.nap or "0.1")
local ran = {} -- the steps that really ran in this process
local flaky_calls = 0

local report = Workflow.sequential({
  name = "resumable-report",
  steps = {
    { name = "gather", fn = function()
      table.insert(ran, "gather")
      return { words = { "alpha", "beta", "gamma" }, at = os.date("!%H:%M:%S") }
    end },
    { name = "slow", fn = function(ctx)
      table.insert(ran, "slow")
      sleep(nap)
      return #ctx.outputs.gather.words
    end },
    { name = "flaky", fn = function()
      table.insert(ran, "flaky")
      flaky_calls = flaky_calls + 1
      if flaky_calls == 1 and not ARGS.resume then
        error("the service is busy, try again later")
      end
      return "published"
    end },
    { name = "summary", fn = function(ctx)
      table.insert(ran, "summary")
      return ("%d words gathered at %s, %s"):format(
        ctx.outputs.slow, ctx.outputs.gather.at, ctx.outputs.flaky)
    end },
  },
})

local function show(result)
  print(result.text)
  print("  steps run in this execution: " .. table.concat(ran, ", "))
  ran = {}
end

local result = report:execute(nil, { resume_from = ARGS.resume })
show(result)

if not result.success then
  -- The first two steps are in the checkpoint: resuming runs only "flaky" and "summary".
  print("resuming " .. result.metadata.run_id)
  result = report:execute(nil, { resume_from = result.metadata.run_id })
  show(result)
end
print(result.final)
