-- expect: sandbox_violation
-- promise: 4
return select("#", table.unpack({}, 1, 1e7))
