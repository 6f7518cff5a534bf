-- Modules can require other modules; names are resolved from the main script's folder.
local text = require("lib.text")

local stats = { text_module = text }

function stats.frequencies(values)
  local counts = {}
  for _, value in ipairs(values) do
    counts[value] = (counts[value] or 0) + 1
  end
  return counts
end

-- The n most frequent values, most frequent first (ties in alphabetical order).
function stats.top(counts, n)
  local entries = {}
  for value, count in pairs(counts) do
    entries[#entries + 1] = { value = value, count = count }
  end
  table.sort(entries, function(a, b)
    if a.count ~= b.count then
      return a.count > b.count
    end
    return a.value < b.value
  end)
  return { table.unpack(entries, 1, math.min(n, #entries)) }
end

return stats
