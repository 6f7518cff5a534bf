-- expect: runtime
-- promise: 1
return package.loadlib("libc.so.6", "system")
