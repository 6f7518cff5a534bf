-- expect: timeout
-- promise: 4
local s = ("x"):rep(1e6) while true do local i = s:find("x*y") end
