-- expect: output_limit
-- promise: 7
while true do pcall(io.stderr.write, io.stderr, ("e"):rep(100)) end
