-- expect: memory
-- promise: 5
local src = "return {" .. ("1,"):rep(4e6) .. "}" return load(src)()
