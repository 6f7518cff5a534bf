-- expect: syntax
-- promise: 13
local x = = 1
