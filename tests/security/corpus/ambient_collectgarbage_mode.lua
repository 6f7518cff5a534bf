-- expect: sandbox_violation
-- promise: 1
collectgarbage("generational") return 1
