-- expect: ok
-- promise: 9
-- value: [2, true]
local m = ("x").upper string.find = function() return "evil" end return {("abc"):find("b"), m == string.upper}
