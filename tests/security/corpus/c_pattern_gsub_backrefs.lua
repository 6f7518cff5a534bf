-- expect: timeout
-- promise: 4
local s = ("ab"):rep(200000) return s:gsub("(.-)(.-)%1%2x", "")
