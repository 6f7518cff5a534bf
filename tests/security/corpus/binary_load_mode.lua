-- expect: sandbox_violation
-- promise: 8
return assert(load("return 1", "x", "b"))
