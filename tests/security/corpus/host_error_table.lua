-- expect: runtime
-- promise: 11
error(setmetatable({}, {__tostring = function() while true do end end}))
