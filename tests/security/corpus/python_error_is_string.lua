-- expect: ok
-- promise: 2
-- value: "string"
local ok, e = pcall(JSON.parse, 42) return type(e)
