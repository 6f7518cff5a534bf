-- expect: runtime
-- promise: 12
local t = {} local c = t for i = 1, 200 do c.next = {} c = c.next end return JSON.stringify(t)
