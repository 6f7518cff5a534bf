-- expect: timeout
-- promise: 4
local s = ("a"):rep(2e6) local p = ("a"):rep(1e6) .. "b" return s:find(p, 1, true)
