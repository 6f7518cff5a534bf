-- expect: runtime
-- promise: 11
return ("abc"):gsub(".", function(c) sleep(0.01) return c end)
