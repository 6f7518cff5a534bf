-- expect: timeout
-- promise: 4
local s = ("1"):rep(4e6) while true do local n = utf8.len(s) end
