-- expect: runtime
-- promise: 1
return loadfile("/etc/passwd")
