-- expect: ok
-- promise: 11
-- value: [false, "cannot resume a scheduler task"]
local t = spawn(function() return 1 end) local co = coroutine.running() return {coroutine.resume(co)}
