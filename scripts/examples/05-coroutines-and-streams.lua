-- Coroutines and streams: generators, producer/consumer, Streaming.create.
--
--   llmspell run scripts/examples/05-coroutines-and-streams.lua
--
-- Lua coroutines work as usual, and they also cooperate with the scheduler: a coroutine may
-- call sleep (or any other call that waits) between its yields. Streaming.create wraps a
-- generator function in a stream object with :next(), :isDone() and :collect().

-- 1. A generator with coroutine.wrap, used in a generic for loop.
local function range(from, to, step)
  return coroutine.wrap(function()
    for i = from, to, step or 1 do
      coroutine.yield(i)
    end
  end)
end

local squares = {}
for i in range(1, 5) do
  squares[#squares + 1] = i * i
end
print("squares:   " .. table.concat(squares, " "))

-- 2. An endless generator: take only what you need.
local fibonacci = coroutine.wrap(function()
  local a, b = 0, 1
  while true do
    coroutine.yield(a)
    a, b = b, a + b
  end
end)
local fib = {}
for _ = 1, 10 do
  fib[#fib + 1] = fibonacci()
end
print("fibonacci: " .. table.concat(fib, " "))

-- 3. Producer and consumer with coroutine.create/resume: values travel both ways.
local consumer = coroutine.create(function(first)
  local total, item = 0, first
  while item do
    total = total + item
    item = coroutine.yield(total) -- hand back the running total, receive the next item
  end
  return "done, total " .. total
end)
for _, item in ipairs({ 10, 20, 30 }) do
  local _, running = coroutine.resume(consumer, item)
  print(("consumer:  got %d, running total %d"):format(item, running))
end
local _, final = coroutine.resume(consumer, nil)
print("consumer:  " .. final .. " (status: " .. coroutine.status(consumer) .. ")")

-- 4. A generator that waits between values: sleep inside a coroutine just works.
local ticks = coroutine.wrap(function()
  for i = 1, 3 do
    sleep(0.02)
    coroutine.yield("tick " .. i)
  end
end)
print("waiting:   " .. ticks() .. ", " .. ticks() .. ", " .. ticks())

-- 5. Streaming.create: the function yields values; the stream hands them out one by one.
local words = Streaming.create(function()
  for word in ("streams hand out values one at a time"):gmatch("%a+") do
    sleep(0.005)
    coroutine.yield(word)
  end
end)
print("first:     " .. words:next())
print("second:    " .. words:next())
print("done yet?  " .. tostring(words:isDone()))
print("the rest:  " .. table.concat(words:collect(), " "))
print("done now?  " .. tostring(words:isDone()))
