-- expect: sandbox_violation
-- promise: 4
return (""):rep(2^40, "x")
