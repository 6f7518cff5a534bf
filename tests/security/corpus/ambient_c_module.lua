-- expect: runtime
-- promise: 1
return require("socket")
