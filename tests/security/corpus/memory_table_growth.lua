-- expect: memory
-- promise: 5
local t = {} while true do t[#t + 1] = {} end
