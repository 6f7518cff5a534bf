-- expect: runtime
-- promise: 1
return os.remove("/tmp/x")
