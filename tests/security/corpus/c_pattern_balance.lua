-- expect: timeout
-- promise: 4
local s = ("("):rep(1000000) return s:find("%b()")
