-- expect: runtime
-- promise: 12
local t = {} for i = 1, 40000 do t[i] = i end return JSON.stringify(table.unpack(t, 1, 40000))
