-- expect: sandbox_violation
-- promise: 13
setmetatable({}, {__gc = true})
