-- expect: timeout
-- promise: 3
while true do xpcall(function() while true do end end, print) end
