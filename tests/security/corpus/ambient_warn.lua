-- expect: runtime
-- promise: 1
warn("@on") warn("to the host stderr") return 1
