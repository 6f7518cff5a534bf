-- expect: ok
-- promise: 10
-- value-match: ^<return value\..*: tables nested deeper than 64 levels \(or a cycle\)>$
local t = {} t.self = t return t
