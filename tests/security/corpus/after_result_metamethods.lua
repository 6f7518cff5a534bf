-- expect: ok
-- promise: 10
-- value: {"a": 1}
return setmetatable({a = 1}, {__index = function() while true do end end, __pairs = function() while true do end end, __len = function() while true do end end})
