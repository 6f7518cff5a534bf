-- Error handling: pcall, error kinds, error objects, xpcall.
--
--   llmspell run scripts/examples/04-error-handling.lua
--
-- Errors raised by llmspell are strings that start with a stable kind, such as
-- "ValidationError: ...", "ToolNotFound: ..." or "ProviderError: ...", so a script can branch
-- on the kind with a pattern like "^ValidationError". Your own errors can be strings or tables.

-- The kind of an llmspell error: the word before the first colon ("ValidationError").
local function kind_of(err)
  if type(err) ~= "string" then
    return type(err)
  end
  return err:match("^(%u%a+):") or "plain error"
end

-- 1. Host functions raise errors with a kind; pcall catches them.
local attempts = {
  { "JSON.parse of broken text", function() return JSON.parse("{oops") end },
  { "sleep with a negative time", function() return sleep(-1) end },
  { "spawn without a function", function() return spawn(42) end },
  { "require of a missing module", function() return require("no_such_module") end },
}
for _, attempt in ipairs(attempts) do
  local label, fn = attempt[1], attempt[2]
  local ok, err = pcall(fn)
  print(("%-28s ok=%s kind=%s"):format(label, tostring(ok), kind_of(err)))
end

-- 2. Match the kind with a pattern and handle just that case.
local function parse_or_default(text, default)
  local ok, value = pcall(JSON.parse, text)
  if ok then
    return value
  end
  if value:match("^ValidationError") then
    return default
  end
  error(value, 0) -- anything else: pass it on unchanged
end
print("parse_or_default: " .. JSON.stringify(parse_or_default("not json", { fallback = true })))

-- 3. error() with a string adds the script name and line; level 0 leaves the message as it is.
local _, positioned = pcall(function()
  error("disk full")
end)
local _, bare = pcall(function()
  error("disk full", 0)
end)
print("error('disk full'):    " .. positioned)
print("error('disk full', 0): " .. bare)

-- 4. Error objects: raise a table to carry structured details.
local function withdraw(balance, amount)
  if amount > balance then
    error({ code = "INSUFFICIENT_FUNDS", balance = balance, requested = amount })
  end
  return balance - amount
end
local ok, err = pcall(withdraw, 50, 80)
if not ok and type(err) == "table" then
  print(("error object: code=%s balance=%d requested=%d"):format(err.code, err.balance, err.requested))
end

-- 5. xpcall: the message handler sees the error first; what it returns is what xpcall returns.
local _, handled = xpcall(function()
  local t = nil
  return t.field
end, function(e)
  return "handled: " .. e
end)
print(handled)

-- 6. Raise your own errors in the same style (level 0: no position before the kind), so callers
--    can match them exactly like llmspell's own.
local function parse_port(text)
  local port = math.tointeger(tonumber(text))
  if port == nil or port < 1 or port > 65535 then
    error(("ValidationError: port: expected an integer from 1 to 65535, got %q"):format(text), 0)
  end
  return port
end
for _, text in ipairs({ "8080", "80x" }) do
  local ok, result = pcall(parse_port, text)
  if ok then
    print(("parse_port(%q) = %d"):format(text, result))
  else
    print(("parse_port(%q) failed with kind %s"):format(text, kind_of(result)))
  end
end
