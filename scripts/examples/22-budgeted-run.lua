-- A budgeted run: the run may spend at most 250 tokens on model calls. The call that goes
-- over the budget is counted, then fails with BudgetExceeded, and so does every later call.
--
--   llmspell --config scripts/examples/configs/budgeted-run.toml run scripts/examples/22-budgeted-run.lua
--
-- The budget comes from [runtime] max_tokens_total here; --max-tokens N and --max-cost USD set
-- it on the command line (max_cost_usd uses the model price table). Without pcall the error
-- ends the run; `llmspell --output json run ...` reports the run's tokens and cost in "metrics".
-- Run it with `run --session sea` a few times: the session's totals add up across the runs,
-- while the budget stays the run's own.
--
-- test-config: scripts/examples/configs/budgeted-run.toml

local writer = Agent.create{ name = "writer", prompt = "One short fact about the sea." }
local over = Event.subscribe("budget.exceeded")

for i = 1, 5 do
  local ok, result = pcall(writer.execute, writer, "Fact number " .. i .. ", please.")
  if ok then
    local m = result.metadata
    print(("%d. %s (%d tokens)"):format(i, result.text, m.total_tokens))
  else
    print(("%d. stopped: %s"):format(i, result))
  end
end

local metrics = writer:get_metrics()
print(("writer: %d requests, %d failed, %d tokens in total"):format(
  metrics.requests_total, metrics.requests_failed, metrics.total_tokens))

if metrics.session then
  print(("session: %d tokens over its runs"):format(metrics.session.total_tokens))
end

local event = Event.receive(over, 0)
if event then
  print("budget.exceeded: " .. event.data.reason)
end
