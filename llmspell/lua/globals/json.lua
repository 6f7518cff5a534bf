-- JSON global: parse/stringify from the host, plus the null sentinel and the array marker.
local kernel, fns = ...
local marks, null = kernel.marks, kernel.null
local type, raise = type, kernel.raise

local function array(t)
  if t == nil then
    t = {}
  end
  if type(t) ~= "table" then
    raise("ValidationError: JSON.array expects a table, got " .. type(t), 2)
  end
  marks[t] = "array"
  return t
end

return {
  parse = fns.parse,
  decode = fns.parse,
  stringify = fns.stringify,
  encode = fns.stringify,
  null = null,
  array = array,
}
