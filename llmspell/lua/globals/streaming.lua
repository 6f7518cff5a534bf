-- Streaming global: Streaming.create(fn) runs fn as a generator (it calls coroutine.yield(value))
-- and hands out its values one at a time. Waits inside fn (sleep, agent calls) work as usual.
local kernel = ...
local create, resume = kernel.user_create, kernel.user_resume
local type, rawget, rawset, error, status = type, rawget, rawset, error, coroutine.status

local Stream = kernel.class("Stream")

local function advance(self)
  local co = rawget(self, "co")
  if status(co) == "dead" then
    return nil
  end
  local ok, value = resume(co)
  if not ok then
    error(value, 0)
  end
  if status(co) == "dead" then
    return nil
  end
  return value
end

Stream.method("next", function(self)
  return advance(self)
end)
Stream.method("isDone", function(self)
  return status(rawget(self, "co")) == "dead"
end)
Stream.methods.is_done = Stream.methods.isDone
Stream.method("collect", function(self)
  local out = {}
  while true do
    local value = advance(self)
    if value == nil then
      return out
    end
    out[#out + 1] = value
  end
end)

local Streaming = {}
function Streaming.create(fn)
  if type(fn) ~= "function" then
    kernel.raise("ValidationError: Streaming.create expects a function, got " .. type(fn), 2)
  end
  return Stream.new({ co = create(fn) })
end
return Streaming
