-- expect: ok
-- promise: 7
-- value: 2000
local t = {} for i = 1, 2000 do t[i] = {i, tostring(i)} end return #t
