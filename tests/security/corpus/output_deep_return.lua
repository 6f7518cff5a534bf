-- expect: ok
-- promise: 7
-- value-match: ^<return value\..*: tables nested deeper than 64 levels \(or a cycle\)>$
local t = {} local c = t for i = 1, 500 do c.next = {} c = c.next end return t
