-- expect: sandbox_violation
-- promise: 4
return table.move({}, 1, 1e12, 1)
