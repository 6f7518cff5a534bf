-- expect: output_limit
-- promise: 7
while true do pcall(print, ("x"):rep(100)) end
