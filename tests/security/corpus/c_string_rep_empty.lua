-- expect: ok
-- promise: 4
-- value: 0
return #(""):rep(2^60)
