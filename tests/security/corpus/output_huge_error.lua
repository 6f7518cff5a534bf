-- expect: runtime
-- promise: 7
error(("e"):rep(1e6))
