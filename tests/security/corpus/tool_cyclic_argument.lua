-- expect: runtime
-- promise: 12
local t = {} t.self = t return Tool.execute("echo", t)
