-- expect: ok
-- promise: 7
local t = {} local c = t for i = 1, 500 do c.next = {} c = c.next end return t
