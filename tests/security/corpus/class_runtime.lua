-- expect: runtime
-- promise: 13
local t = nil return t.x
