-- expect: sandbox_violation
-- promise: 8
local parts = {string.char(27), "LuaT"} local i = 0 return assert(load(function() i = i + 1 return parts[i] end))
