-- expect: ok
-- promise: 10
-- value: "set"
local mt = {} KEEP = setmetatable({}, mt) mt.__gc = function() while true do end end return "set"
