-- expect: timeout
-- promise: 3
xpcall(function() error("x") end, function() while true do end end)
