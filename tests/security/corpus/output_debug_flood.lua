-- expect: output_limit
-- promise: 7
while true do pcall(Debug.info, ("d"):rep(100)) end
