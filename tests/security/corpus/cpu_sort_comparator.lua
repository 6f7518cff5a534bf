-- expect: timeout
-- promise: 3
local t = {} for i = 1, 100 do t[i] = i end while true do pcall(table.sort, t, function() while true do end end) end
