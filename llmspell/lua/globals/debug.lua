-- Debug global: levelled logging, timers and a readable dump of any value.
local kernel, fns = ...
local log, now_ms = fns.log, fns.now_ms
local type, tostring, pairs, rawget, getmetatable = type, tostring, pairs, rawget, getmetatable
local concat, sort, format = table.concat, table.sort, string.format

local Debug = {
  log = log,
  setLevel = fns.setLevel,
  getLevel = fns.getLevel,
}
Debug.set_level = Debug.setLevel
Debug.get_level = Debug.getLevel
for _, level in ipairs({ "trace", "debug", "info", "warn", "error" }) do
  Debug[level] = function(message)
    return log(level, message)
  end
end
Debug.warning = Debug.warn

local Timer = kernel.class("Timer")
Timer.method("elapsed", function(self)
  local stopped = rawget(self, "stopped_ms")
  return (stopped or now_ms()) - rawget(self, "started_ms")
end)
Timer.method("stop", function(self)
  if rawget(self, "stopped_ms") == nil then
    rawset(self, "stopped_ms", now_ms())
  end
  local elapsed = rawget(self, "stopped_ms") - rawget(self, "started_ms")
  log("debug", format("timer %s: %.3f ms", tostring(rawget(self, "name")), elapsed))
  return elapsed
end)

function Debug.timer(name)
  return Timer.new({ name = name or "timer", started_ms = now_ms() })
end

local function dump(value, indent, seen)
  local t = type(value)
  if t == "string" then
    return format("%q", value)
  elseif t ~= "table" then
    return tostring(value)
  end
  if seen[value] then
    return "<cycle>"
  end
  seen[value] = true
  local keys = {}
  for k in next, value do
    keys[#keys + 1] = k
  end
  sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta == tb and (ta == "number" or ta == "string") then
      return a < b
    end
    return ta < tb
  end)
  if #keys == 0 then
    seen[value] = nil
    return "{}"
  end
  local pad = string.rep("  ", indent + 1)
  local parts = {}
  for _, k in ipairs(keys) do
    local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or "[" .. dump(k, 0, seen) .. "]"
    parts[#parts + 1] = pad .. key .. " = " .. dump(rawget(value, k), indent + 1, seen)
  end
  seen[value] = nil
  return "{\n" .. concat(parts, ",\n") .. "\n" .. string.rep("  ", indent) .. "}"
end

function Debug.dump(value, label)
  local text = dump(value, 0, {})
  if label ~= nil then
    text = tostring(label) .. ": " .. text
  end
  return text
end

return Debug
