-- expect: ok
-- promise: 10
local t = {} t.self = t return t
