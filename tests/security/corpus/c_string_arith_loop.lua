-- expect: timeout
-- promise: 4
local s = ("1"):rep(4e6) while true do pcall(function() return s + 1 end) end
