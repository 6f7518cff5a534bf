-- expect: runtime
-- promise: 1
return debug.getregistry()
