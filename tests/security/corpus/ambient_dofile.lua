-- expect: runtime
-- promise: 1
return dofile("/etc/passwd")
