-- expect: sandbox_violation
-- promise: 4
return ("x"):rep(2^40)
