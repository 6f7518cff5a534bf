-- expect: runtime
-- promise: 1
return io.popen("id"):read("a")
