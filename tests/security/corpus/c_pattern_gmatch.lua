-- expect: timeout
-- promise: 4
local s = ("a"):rep(1000000) for w in s:gmatch("(%w+)%s*=") do end return 1
