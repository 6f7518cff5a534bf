-- expect: timeout
-- promise: 3
while true do pcall(string.gsub, ("x"):rep(100), ".", function() while true do end end) end
