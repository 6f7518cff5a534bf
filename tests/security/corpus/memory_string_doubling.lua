-- expect: memory
-- promise: 5
local s = "x" while true do s = s .. s end
