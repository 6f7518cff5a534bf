-- expect: timeout
-- promise: 4
local s = ("x"):rep(4e6) while true do local n = select("#", s:byte(1, 90000)) end
