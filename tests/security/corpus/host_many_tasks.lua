-- expect: sandbox_violation
-- promise: 11
local fns = {} for i = 1, 10001 do fns[i] = function() end end return parallel(fns)
