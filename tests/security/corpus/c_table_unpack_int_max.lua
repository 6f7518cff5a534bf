-- expect: sandbox_violation
-- promise: 4
return table.unpack({}, 0, 2^31 - 1)
