-- expect: runtime
-- promise: 12
local t = {} for i = 1, 1000 do t[i] = i end spawn(function() end, table.unpack(t))
