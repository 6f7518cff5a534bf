-- expect: ok
-- promise: 11
pcall(os.exit, 0) print("not reached")
