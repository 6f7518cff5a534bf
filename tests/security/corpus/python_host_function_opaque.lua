-- expect: ok
-- promise: 2
-- value: [true, "function", true]
return {getmetatable(JSON.parse) == nil, type(JSON.parse), tostring(JSON.parse):match("^function") ~= nil}
