-- expect: ok
-- promise: 2
-- value: [true, true, true]
return {getmetatable("") == false, ("").dump == nil, ("x").format ~= nil}
