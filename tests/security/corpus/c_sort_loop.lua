-- expect: timeout
-- promise: 4
local t = {} for i = 1, 50000 do t[i] = i end while true do table.sort(t) end
