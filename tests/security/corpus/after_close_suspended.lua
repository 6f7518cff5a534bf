-- expect: ok
-- promise: 10
-- value: "suspended"
CO = coroutine.create(function() local x <close> = setmetatable({}, {__close = function() while true do end end}) coroutine.yield() end) coroutine.resume(CO) return coroutine.status(CO)
