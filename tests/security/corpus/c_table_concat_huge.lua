-- expect: memory
-- promise: 4
local t = {} for i = 1, 200 do t[i] = ("x"):rep(1e5) end local parts = {} for i = 1, 100 do parts[i] = table.concat(t) end return #parts
