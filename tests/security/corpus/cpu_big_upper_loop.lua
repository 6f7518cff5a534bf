-- expect: timeout
-- promise: 3
local big = ("x"):rep(4e6) while true do local y = big:upper() end
