-- A module is a Lua file that returns a value, usually a table of functions.
local text = {}

function text.words(s)
  local out = {}
  for word in s:gmatch("%S+") do
    out[#out + 1] = word
  end
  return out
end

function text.title(s)
  return (s:gsub("(%a)(%a*)", function(first, rest)
    return first:upper() .. rest
  end))
end

return text
