-- expect: timeout
-- promise: 3
local a = ("x"):rep(4e6) local b = a:sub(1, -2) .. "y" while a ~= b do end
