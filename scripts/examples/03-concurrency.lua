-- Concurrency without threads: sleep, spawn + wait, parallel.
--
--   llmspell run scripts/examples/03-concurrency.lua
--
-- Every call that waits (sleep here; LLM calls, HTTP and tools elsewhere) hands control to the
-- scheduler, so other script tasks run meanwhile. Three waits of 0.1 s take 0.3 s one after
-- another, and about 0.1 s when they run together. Times are measured with Debug.timer.

local function ms(timer)
  return ("%.0f ms"):format(timer:elapsed())
end

-- The first wait starts the scheduler's event loop, a one-time cost: pay it before timing.
sleep(0)

-- 1. One after another.
local t = Debug.timer("sequential")
for _ = 1, 3 do
  sleep(0.1)
end
print("sequential: 3 x sleep(0.1) took " .. ms(t))

-- 2. spawn starts a task at once and returns a handle; :wait() gives the task's return values.
local function fetch(name, delay)
  sleep(delay)
  return name:upper(), delay
end

t = Debug.timer("spawn")
local handles = {}
for i, name in ipairs({ "alpha", "beta", "gamma" }) do
  handles[i] = spawn(fetch, name, 0.1)
end
for _, handle in ipairs(handles) do
  local name, delay = handle:wait()
  print(("  spawned task returned %s after %.1f s"):format(name, delay))
end
print("spawn:      3 tasks of 0.1 s took " .. ms(t))

-- 3. parallel runs a list of functions together and returns their results in order,
--    whichever finishes first.
t = Debug.timer("parallel")
local results = parallel({
  function()
    sleep(0.15)
    return "slow"
  end,
  function()
    sleep(0.05)
    return "fast"
  end,
  function()
    return "instant"
  end,
})
print("parallel:   results " .. table.concat(results, ", ") .. " in " .. ms(t))

-- 4. An error in a spawned task reaches whoever waits for it.
local failing = spawn(function()
  sleep(0.01)
  error("the task failed", 0)
end)
local ok, err = pcall(function()
  return failing:wait()
end)
print("error from a task: ok=" .. tostring(ok) .. ", " .. err)
