-- expect: runtime
-- promise: 1
local f = io.open("/etc/passwd") return f:read("a")
