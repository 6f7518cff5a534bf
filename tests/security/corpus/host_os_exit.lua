-- expect: ok
-- promise: 11
-- absent: not reached
pcall(os.exit, 0) print("not reached")
