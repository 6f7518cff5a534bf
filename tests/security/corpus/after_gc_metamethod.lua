-- expect: sandbox_violation
-- promise: 10
setmetatable({}, {__gc = function() print("late") end}) return 1
