-- A script you did not write, run the way such scripts should be: in a worker process, with
-- tight limits. Each probe below tries something a hostile script would, and prints how the
-- sandbox answered; none of them reaches the host.
--
--   llmspell --config scripts/examples/configs/untrusted.toml run scripts/examples/30-untrusted-script.lua
--   llmspell run --isolation process scripts/examples/30-untrusted-script.lua   (default limits)
--
-- A probe that is not caught ends the run with its class instead (`--output json` shows
-- error_kind): try `llmspell --memory-limit 16 exec 'local s = "x" while true do s = s .. s end'`.
-- What each isolation mode guarantees is in docs/security.md.
--
-- test-config: scripts/examples/configs/untrusted.toml

local function probe(what, fn)
  local ok, result = pcall(fn)
  local answer
  if ok then
    answer = "got " .. tostring(result)
  else
    answer = "refused: " .. tostring(result):gsub("^[^\n]-:%d+: ", "")
  end
  print(("%-34s %s"):format(what, answer:sub(1, 80)))
end

probe("read a secret from the environment", function()
  return os.getenv("OPENAI_API_KEY") or os.getenv("HOME") or "nothing visible"
end)
probe("open a file", function() return io.open("/etc/passwd") end)
probe("run a shell command", function() return os.execute("id") end)
probe("load a binary chunk", function()
  return assert(load("\27LuaT\0\25\147\r\n\26\n"))
end)
probe("reach the real string library", function() return ("").dump end)
probe("a 1 TB string", function() return #string.rep("x", 2 ^ 40) end)
probe("a runaway pattern (bounded)", function()
  return string.find(string.rep("a", 40), "(a*)*b")
end)
probe("a finalizer that outlives the run", function()
  return setmetatable({}, { __gc = function() print("too late") end })
end)
probe("the host's Python objects", function() return python end)

-- The limits hold even against pcall: this loop's CPU time counts, and an uncaught limit would
-- end the run. Here the loop stops itself well before the limit.
local n = 0
while n < 1e6 do n = n + 1 end
print("a million iterations, then done: the run ends ok")
