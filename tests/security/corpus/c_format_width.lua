-- expect: runtime
-- promise: 4
return string.format("%5000d", 1)
