-- expect: timeout
-- promise: 3
while true do pcall(function() local x <close> = setmetatable({}, {__close = function() while true do end end}) end) end
